import { customerView, type CustomerRecord } from '../../models/customer.model';
import {
  customerInteractionView,
  interactionSecretContext,
  staffInteractionView,
  type InteractionRecord,
  type InteractionSecrets,
} from '../../models/interaction.model';
import { ticketView, type TicketRecord } from '../../models/ticket.model';
import type { UserRecord } from '../../models/user.model';
import type { WebhookEventType } from '../../models/webhook-endpoint.model';
import { openText } from '../encryption.service';
import { publishEvent, type EventData } from './webhook-events';

// Entity changes → events. Called with every change the activity trail records (services/activity.service),
// so each create, update and delete of a customer, interaction or ticket is published where it is written.
// The object is the API's public shape: an interaction without its encrypted notes and outcome (what a
// customer sees of it), never a password hash or token. Staff users are not published. Endpoints that opted
// in to encrypted fields get the private view instead (an interaction's notes and outcome decrypted), built
// only when one of them listens.

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

function openSecret(record: InteractionRecord, field: keyof InteractionSecrets): string | null {
  const stored = record[field];
  return stored ? openText(stored, interactionSecretContext(record._id, field)) : null;
}

/** The views for endpoints with include_encrypted_fields, where an entity has encrypted fields. */
const privateViews: { [E in ChangedEntity]: PublicView<E> | undefined } = {
  user: undefined,
  customer: undefined,
  interaction: (record) => staffInteractionView(record, { notes: openSecret(record, 'notes'), outcome: openSecret(record, 'outcome') }),
  ticket: undefined,
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

/** An update's data in one view, made on first use only: nothing extra on an unwatched write. */
function lazyUpdate<E extends ChangedEntity>(view: PublicView<E>, before: ChangeRecords[E], after: ChangeRecords[E]) {
  let views: { object: Record<string, unknown>; old: Record<string, unknown> } | undefined;
  const both = () => (views ??= { object: view(after), old: view(before) });
  const build = (): EventData => ({ object: both().object, previous: previousValues(both().old, both().object) });
  return { both, build };
}

/** Publishes `<entity>.created|updated|deleted` (and `ticket.status_changed`) for one recorded change. */
export async function publishChange<E extends ChangedEntity>(
  entity: E,
  before: ChangeRecords[E] | null,
  after: ChangeRecords[E] | null,
): Promise<void> {
  const view: PublicView<E> | undefined = publicViews[entity];
  const privateView: PublicView<E> | undefined = privateViews[entity];
  const names = eventNames[entity];
  if (!view || !names) return;
  if (before === null || after === null) {
    const record = after ?? before;
    if (!record) return;
    const buildPrivate = privateView && (() => ({ object: privateView(record) }));
    await publishEvent(after ? names.created : names.deleted, () => ({ object: view(record) }), buildPrivate);
    return;
  }
  const plain = lazyUpdate(view, before, after);
  await publishEvent(names.updated, plain.build, privateView && lazyUpdate(privateView, before, after).build);
  // A ticket's status is compared on the public view (tickets have no private one).
  if (entity === 'ticket' && plain.both().old.status !== plain.both().object.status)
    await publishEvent('ticket.status_changed', plain.build);
}

const restoredEvents: { [E in ChangedEntity]: WebhookEventType | undefined } = {
  user: undefined,
  customer: 'customer.restored',
  interaction: 'interaction.restored',
  ticket: 'ticket.restored',
};

/** Publishes `<entity>.restored` for a record brought back from the trash (services/trash.service). */
export async function publishRestored<E extends ChangedEntity>(entity: E, record: ChangeRecords[E]): Promise<void> {
  const view: PublicView<E> | undefined = publicViews[entity];
  const privateView: PublicView<E> | undefined = privateViews[entity];
  const type = restoredEvents[entity];
  if (!view || !type) return;
  await publishEvent(type, () => ({ object: view(record) }), privateView && (() => ({ object: privateView(record) })));
}
