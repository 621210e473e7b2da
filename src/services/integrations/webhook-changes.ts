import { customerView, type CustomerRecord } from '../../models/customer.model';
import { customerInteractionView, type InteractionRecord } from '../../models/interaction.model';
import { ticketView, type TicketRecord } from '../../models/ticket.model';
import type { UserRecord } from '../../models/user.model';
import type { WebhookEventType } from '../../models/webhook-endpoint.model';
import { publishEvent } from './webhook-events';

// Entity changes → events. Called with every change the activity trail records (services/activity.service),
// so each create, update and delete of a customer, interaction or ticket is published where it is written.
// The object is the API's public shape: an interaction without its encrypted notes and outcome (what a
// customer sees of it), never a password hash or token. Staff users are not published.

export interface ChangeRecords {
  user: UserRecord;
  customer: CustomerRecord;
  interaction: InteractionRecord;
  ticket: TicketRecord;
}
/** The entities whose single changes are recorded (an import job is recorded as one entry of its own). */
export type ChangedEntity = keyof ChangeRecords;

type PublicView<E extends ChangedEntity> = (record: ChangeRecords[E]) => Record<string, unknown>;
const publicViews: { [E in ChangedEntity]: PublicView<E> | undefined } = {
  user: undefined,
  customer: customerView,
  interaction: customerInteractionView,
  ticket: ticketView,
};

type Action = 'created' | 'updated' | 'deleted';
const eventNames: { [E in ChangedEntity]: Record<Action, WebhookEventType> | undefined } = {
  user: undefined,
  customer: { created: 'customer.created', updated: 'customer.updated', deleted: 'customer.deleted' },
  interaction: { created: 'interaction.created', updated: 'interaction.updated', deleted: 'interaction.deleted' },
  ticket: { created: 'ticket.created', updated: 'ticket.updated', deleted: 'ticket.deleted' },
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The changed fields' values before the change (`updated_at` aside: it always changes). */
function previousValues(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(after)
      .filter((key) => key !== 'updated_at' && !same(before[key], after[key]))
      .map((key) => [key, before[key]]),
  );
}

/** Publishes `<entity>.created|updated|deleted` (and `ticket.status_changed`) for one recorded change. */
export async function publishChange<E extends ChangedEntity>(
  entity: E,
  before: ChangeRecords[E] | null,
  after: ChangeRecords[E] | null,
): Promise<void> {
  const view: PublicView<E> | undefined = publicViews[entity];
  const names = eventNames[entity];
  if (!view || !names) return;
  if (before === null || after === null) {
    const record = after ?? before;
    if (record) await publishEvent(after ? names.created : names.deleted, () => ({ object: view(record) }));
    return;
  }
  // Views only when someone listens (or to compare a ticket's status): nothing extra on an unwatched write.
  let views: { object: Record<string, unknown>; old: Record<string, unknown> } | undefined;
  const both = () => (views ??= { object: view(after), old: view(before) });
  const build = () => ({ object: both().object, previous: previousValues(both().old, both().object) });
  await publishEvent(names.updated, build);
  if (entity === 'ticket' && both().old.status !== both().object.status) await publishEvent('ticket.status_changed', build);
}
