import { createHash } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { insertedFirst } from '../../database/unique-insert';
import { Customer, type CustomerRecord } from '../../models/customer.model';
import type { InteractionRecord } from '../../models/interaction.model';
import { Notification } from '../../models/notification.model';
import { SystemFlag } from '../../models/system-flag.model';
import type { TicketRecord } from '../../models/ticket.model';
import { User, type UserRecord } from '../../models/user.model';
import {
  meetingTemplate,
  passwordChangedTemplate,
  renderMessage,
  signupExistingContactTemplate,
  ticketRaisedTemplate,
  ticketStatusTemplate,
  welcomeTemplate,
  type MailEvent,
  type MeetingEvent,
  type Template,
} from './mail-templates';
import { enqueueMail } from '../outbox.service';

// Events → messages (SPEC §5). Each intent function works out who is concerned, then writes one outbox
// e-mail and one in-app notification per recipient. Called by the services after the write that caused
// the event, in the same request: the request waits for these two inserts, never for SMTP.

interface Recipient {
  type: 'user' | 'customer';
  id: Types.ObjectId;
  email: string;
  name: string;
}

type Subject = { entity: 'user' | 'customer' | 'interaction' | 'ticket'; id: Types.ObjectId };

const staff = (user: Pick<UserRecord, '_id' | 'name' | 'email'>): Recipient => ({
  type: 'user',
  id: user._id,
  email: user.email,
  name: user.name,
});
const customerRecipient = (c: Pick<CustomerRecord, '_id' | 'name' | 'email'>): Recipient => ({
  type: 'customer',
  id: c._id,
  email: c.email,
  name: c.name,
});

async function findStaff(id: Types.ObjectId | null | undefined): Promise<Recipient | undefined> {
  if (!id) return undefined;
  const user = await User.findById(id, { name: 1, email: 1 }).lean<UserRecord>();
  return user ? staff(user) : undefined;
}

async function findCustomer(id: Types.ObjectId): Promise<Recipient | undefined> {
  const customer = await Customer.findById(id, { name: 1, email: 1 }).lean<CustomerRecord>();
  return customer ? customerRecipient(customer) : undefined;
}

async function dispatch(event: MailEvent, template: Template, recipients: (Recipient | undefined)[], subject: Subject): Promise<void> {
  const seen = new Set<string>();
  const unique = recipients.filter((r): r is Recipient => {
    if (!r || seen.has(`${r.type}:${r.id.toHexString()}`)) return false;
    seen.add(`${r.type}:${r.id.toHexString()}`);
    return true;
  });
  if (unique.length === 0) return;
  await enqueueMail(unique.map((r) => ({ event, to: r.email, ...renderMessage(template, r.name) })));
  await Notification.insertMany(
    unique.map((r) => ({
      recipient_type: r.type,
      recipient: r.id,
      event,
      title: template.subject,
      body: template.lines.join(' '),
      entity: subject.entity,
      entity_id: subject.id,
    })),
  );
}

async function notifyMeeting(event: MeetingEvent, meeting: InteractionRecord): Promise<void> {
  const [customer, user] = await Promise.all([findCustomer(meeting.customer), findStaff(meeting.user)]);
  const template = meetingTemplate(event, {
    title: meeting.title ?? null,
    scheduledAt: meeting.scheduled_at ?? null,
    customerName: customer?.name ?? 'the customer',
    staffName: user?.name ?? 'our team',
  });
  await dispatch(event, template, [customer, user], { entity: 'interaction', id: meeting._id });
}

const meetingEventFor: Record<InteractionRecord['status'], MeetingEvent> = {
  scheduled: 'meeting.scheduled',
  completed: 'meeting.completed',
  cancelled: 'meeting.cancelled',
};

/** A new interaction: a meeting notifies its customer and its staff user. */
export async function interactionCreated(interaction: InteractionRecord): Promise<void> {
  if (interaction.type !== 'meeting') return;
  await notifyMeeting(meetingEventFor[interaction.status], interaction);
}

/** A changed meeting: completed, cancelled, reopened, or moved to another time. */
export async function interactionUpdated(before: InteractionRecord, after: InteractionRecord): Promise<void> {
  if (after.type !== 'meeting') return;
  if (before.status !== after.status) {
    await notifyMeeting(after.status === 'scheduled' ? 'meeting.rescheduled' : meetingEventFor[after.status], after);
    return;
  }
  const moved = (before.scheduled_at?.getTime() ?? null) !== (after.scheduled_at?.getTime() ?? null);
  if (moved && after.status === 'scheduled') await notifyMeeting('meeting.rescheduled', after);
}

/** A new ticket: its assignee, or every MANAGER and ADMIN when nobody is assigned. */
export async function ticketRaised(ticket: TicketRecord): Promise<void> {
  const recipients = ticket.assigned_to
    ? [await findStaff(ticket.assigned_to)]
    : (await User.find({ role: mongoose.trusted({ $in: ['MANAGER', 'ADMIN'] }) }, { name: 1, email: 1 }).lean<UserRecord[]>()).map(staff);
  const customer = await findCustomer(ticket.customer);
  const template = ticketRaisedTemplate({ title: ticket.title, priority: ticket.priority, customerName: customer?.name ?? 'A customer' });
  await dispatch('ticket.raised', template, recipients, { entity: 'ticket', id: ticket._id });
}

/** A ticket whose status moved: its customer hears of it. */
export async function ticketUpdated(before: TicketRecord, after: TicketRecord): Promise<void> {
  if (before.status === after.status) return;
  const template = ticketStatusTemplate(after, before.status, after.status);
  await dispatch('ticket.status_changed', template, [await findCustomer(after.customer)], { entity: 'ticket', id: after._id });
}

/** A customer's self-registration. */
export async function customerSignedUp(customer: Pick<CustomerRecord, '_id' | 'name' | 'email'>): Promise<void> {
  await dispatch('customer.welcome', welcomeTemplate(customer.name), [customerRecipient(customer)], {
    entity: 'customer',
    id: customer._id,
  });
}

// One notice per address per hour at most, so the public sign-up cannot be used to flood a contact's inbox.
const SIGNUP_NOTICE_COOLDOWN_MS = 3_600_000;

/** Claims the address's notice slot: a unique _id insert, atomic on every engine; an expired claim is removed first. */
async function claimSignupNotice(email: string): Promise<boolean> {
  const id = `signup-notice:${createHash('sha256').update(email.toLowerCase()).digest('hex')}`;
  await SystemFlag.deleteOne({ _id: id, set_at: mongoose.trusted({ $lte: new Date(Date.now() - SIGNUP_NOTICE_COOLDOWN_MS) }) });
  return insertedFirst(() => SystemFlag.create({ _id: id }));
}

/**
 * A self-registration with the address of an existing contact that has no password: the sign-up answered
 * like a new one, so only the address's owner hears, by e-mail, what happened and how to get access. No
 * in-app notification: the contact cannot sign in to read it.
 */
export async function signupForExistingContact(contact: Pick<CustomerRecord, 'name' | 'email'>): Promise<void> {
  if (!(await claimSignupNotice(contact.email))) return;
  const message = renderMessage(signupExistingContactTemplate(), contact.name);
  await enqueueMail([{ event: 'customer.signup_existing_contact', to: contact.email, ...message }]);
}

/**
 * A changed password: a security notice to the account's address — and to its former address when the
 * same request changed the e-mail too, so a taken-over account's owner still hears of it.
 */
export async function passwordChanged(
  kind: 'user' | 'customer',
  before: { _id: Types.ObjectId; name: string; email: string },
  after: { _id: Types.ObjectId; name: string; email: string },
): Promise<void> {
  const template = passwordChangedTemplate(new Date());
  const current: Recipient = { type: kind, id: after._id, email: after.email, name: after.name };
  const messages = [current];
  if (before.email !== after.email) messages.push({ ...current, email: before.email });
  await enqueueMail(messages.map((r) => ({ event: 'account.password_changed', to: r.email, ...renderMessage(template, r.name) })));
  await Notification.create({
    recipient_type: kind,
    recipient: after._id,
    event: 'account.password_changed',
    title: template.subject,
    body: template.lines.join(' '),
    entity: kind,
    entity_id: after._id,
  });
}

const disabledWords: Record<'gone' | 'failures', string> = {
  gone: 'its receiver answered 410 Gone',
  failures: 'too many deliveries in a row failed',
};

/** A webhook endpoint the worker disabled: every ADMIN hears of it in-app (no e-mail). */
export async function webhookDisabled(endpoint: { _id: Types.ObjectId; url: string }, reason: 'gone' | 'failures'): Promise<void> {
  const admins = await User.find({ role: 'ADMIN' }, { _id: 1 }).lean<Pick<UserRecord, '_id'>[]>();
  if (admins.length === 0) return;
  await Notification.insertMany(
    admins.map((admin) => ({
      recipient_type: 'user',
      recipient: admin._id,
      event: 'webhook.disabled',
      title: 'Webhook endpoint disabled',
      body: `The webhook endpoint ${endpoint.url} was disabled because ${disabledWords[reason]}. Fix the receiver, then re-enable it with PATCH /webhooks/${endpoint._id.toHexString()} {"active": true}.`,
      entity: 'webhook',
      entity_id: endpoint._id,
    })),
  );
}
