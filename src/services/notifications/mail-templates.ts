// E-mail templates: each event gives a subject and a few lines; `renderMessage` turns them into a text and
// an HTML body with the same content. Every interpolated value is HTML-escaped in the HTML body, and no
// template takes a secret (passwords, tokens, encrypted notes or outcomes are never passed in).

export interface MeetingFacts {
  title: string | null;
  scheduledAt: Date | null;
  customerName: string;
  staffName: string;
}

export interface TicketFacts {
  title: string;
  priority: string;
  customerName: string;
}

export type MeetingEvent = 'meeting.scheduled' | 'meeting.rescheduled' | 'meeting.completed' | 'meeting.cancelled';
export type MailEvent =
  | MeetingEvent
  | 'ticket.raised'
  | 'ticket.status_changed'
  | 'customer.welcome'
  | 'customer.signup_existing_contact'
  | 'account.password_changed';

export interface Template {
  subject: string;
  /** Plain sentences (no markup): the in-app notification body and the e-mail paragraphs. */
  lines: string[];
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Header injection guard: a subject is one line. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

function when(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'a time to be confirmed';
}

const meetingVerbs: Record<MeetingEvent, string> = {
  'meeting.scheduled': 'scheduled',
  'meeting.rescheduled': 'rescheduled',
  'meeting.completed': 'completed',
  'meeting.cancelled': 'cancelled',
};

export function meetingTemplate(event: MeetingEvent, meeting: MeetingFacts): Template {
  const verb = meetingVerbs[event];
  const title = meeting.title ?? 'Meeting';
  const lines = [`The meeting "${title}" between ${meeting.customerName} and ${meeting.staffName} has been ${verb}.`];
  if (event === 'meeting.scheduled' || event === 'meeting.rescheduled') lines.push(`It takes place at ${when(meeting.scheduledAt)}.`);
  return { subject: `Meeting ${verb}: ${title}`, lines };
}

export function ticketRaisedTemplate(ticket: TicketFacts): Template {
  return {
    subject: `New ticket: ${ticket.title}`,
    lines: [
      `${ticket.customerName} has a new ticket "${ticket.title}" (priority ${ticket.priority}).`,
      'It is waiting for you in the CRM.',
    ],
  };
}

const statusWords: Record<string, string> = { open: 'open', in_progress: 'in progress', resolved: 'resolved', closed: 'closed' };

export function ticketStatusTemplate(ticket: { title: string }, from: string, to: string): Template {
  const word = statusWords[to] ?? to;
  return {
    subject: `Your ticket is ${word}: ${ticket.title}`,
    lines: [`Your ticket "${ticket.title}" moved from ${statusWords[from] ?? from} to ${word}.`],
  };
}

export function welcomeTemplate(name: string): Template {
  return {
    subject: 'Welcome to the CRM',
    lines: [`Welcome, ${name}! Your account has been created.`, 'You can now sign in to follow your meetings and tickets.'],
  };
}

/**
 * A self-registration with the address of a contact that has no sign-in yet: nothing was created or changed
 * (the sign-up answered as if it had), and only the owner of the address learns why.
 */
export function signupExistingContactTemplate(): Template {
  return {
    subject: 'About your sign-up request',
    lines: [
      'Someone asked to register a customer account with this e-mail address.',
      'This address already belongs to a contact on our records, so no new account was created and nothing was changed.',
      'To get access to the self-service portal, ask your contact person at our company to set it up for you.',
      'If you did not ask for this, you can ignore this message.',
    ],
  };
}

export function passwordChangedTemplate(at: Date): Template {
  return {
    subject: 'Your password was changed',
    lines: [
      `The password of your account was changed at ${when(at)}.`,
      'Every session signed in before that has been signed out.',
      'If you did not make this change, contact your administrator at once.',
    ],
  };
}

export function renderMessage(template: Template, recipientName: string): RenderedMessage {
  const greeting = `Hello ${recipientName},`;
  const signature = '— CRM';
  const text = [greeting, '', ...template.lines, '', signature, ''].join('\n');
  const paragraphs = [greeting, ...template.lines].map((line) => `<p>${escapeHtml(line)}</p>`).join('\n');
  const html = `<!doctype html>\n<html><body>\n${paragraphs}\n<p>${escapeHtml(signature)}</p>\n</body></html>\n`;
  return { subject: oneLine(template.subject), text, html };
}
