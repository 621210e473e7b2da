// Notifications (SPEC §5), the folder's only door: events.ts works out who hears about a change and queues
// their e-mail (through the outbox) and in-app notification; inbox.ts serves a caller's in-app
// notifications; mail-templates.ts words the e-mails.
export {
  customerSignedUp,
  interactionCreated,
  interactionUpdated,
  passwordChanged,
  signupForExistingContact,
  ticketRaised,
  ticketUpdated,
  webhookDisabled,
} from './events';
export { listNotifications, markAllRead, markRead } from './inbox';
