import type { InteractionStatus, InteractionType } from '../../src/models/interaction.model';
import { createInteraction } from '../../src/services/interaction.service';
import { createTicket } from '../../src/services/ticket.service';
import type { Principal } from '../../src/utils/principal';

export interface InteractionInput {
  customer: string;
  user: string;
  type?: InteractionType;
  title?: string;
  notes?: string;
  outcome?: string;
  status?: InteractionStatus;
  scheduled_at?: Date;
  due_at?: Date;
}

/** Saves an interaction through the service, so it is encrypted and bucketed exactly as the API would. */
export async function insertInteraction({ customer, user, type = 'meeting', ...fields }: InteractionInput) {
  const owner: Principal = { type: 'user', id: user, role: 'USER' };
  const { after } = await createInteraction(
    { customerId: customer, userId: user, type, title: 'Factory meeting', ...fields },
    owner,
    'body',
  );
  if (!after) throw new Error('interaction not created');
  return after;
}

export interface TicketInput {
  title?: string;
  description?: string;
  priority?: 'low' | 'medium' | 'high' | 'urgent';
  assigned_to?: string;
}

/** Raises a ticket on an interaction as `by` would (assigned to the interaction's owner by default). */
export async function insertTicket(interactionId: string, by: Principal, input: TicketInput = {}) {
  const { after } = await createTicket(interactionId, { title: 'Factory ticket', ...input }, by);
  if (!after) throw new Error('ticket not created');
  return after;
}
