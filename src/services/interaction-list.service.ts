import mongoose from 'mongoose';
import { Customer } from '../models/customer.model';
import { Interaction, type InteractionView } from '../models/interaction.model';
import { User } from '../models/user.model';
import type { ListInteractionsQuery } from '../schemas/interaction.schema';
import { AppError } from '../utils/app-error';
import { allOf } from '../utils/filters';
import { paginate } from '../database/paginate';
import type { Page } from '../utils/paging';
import { can, type Principal } from '../utils/principal';
import { presentInteraction, readScope, toObjectId } from './interaction.service';

type InteractionFilters = Omit<ListInteractionsQuery, 'page' | 'limit' | 'sort' | 'after'>;

/** The Mongo filter for the list filters. `from`/`to` bound occurs_at: [from, to). */
function interactionFilter(filters: InteractionFilters): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (filters.type) filter.type = filters.type;
  if (filters.status) filter.status = filters.status;
  if (filters.user_id) filter.user = toObjectId(filters.user_id);
  if (filters.customer_id) filter.customer = toObjectId(filters.customer_id);
  if (filters.from || filters.to) {
    filter.occurs_at = mongoose.trusted({ ...(filters.from ? { $gte: filters.from } : {}), ...(filters.to ? { $lt: filters.to } : {}) });
  }
  return filter;
}

async function listWithin(
  scope: Record<string, unknown>,
  query: ListInteractionsQuery,
  principal: Principal,
): Promise<Page<InteractionView>> {
  const page = await paginate(Interaction, allOf(readScope(principal), scope, interactionFilter(query)), query);
  return { ...page, items: page.items.map((record) => presentInteraction(record, principal)) };
}

/** Every interaction the caller may read (all for ADMIN/MANAGER, own for USER and customers). */
export async function listInteractions(query: ListInteractionsQuery, principal: Principal): Promise<Page<InteractionView>> {
  return listWithin({}, query, principal);
}

/** GET /users/meetings: the caller's own interactions, whatever their role (a customer's: its own). */
export async function listMyInteractions(query: ListInteractionsQuery, principal: Principal): Promise<Page<InteractionView>> {
  // A customer's read scope already is "its own"; staff with read-all still get only what they own here.
  const own = principal.type === 'customer' ? {} : { user: toObjectId(principal.id) };
  return listWithin(own, query, principal);
}

/** `what` names the missing thing in the 404 (the same for every refusal). */
export async function listCustomerInteractions(customerId: string, query: ListInteractionsQuery, principal: Principal, what = 'Customer') {
  if (principal.type === 'customer' && principal.id !== customerId) throw AppError.notFound(what);
  if (!(await Customer.exists({ _id: customerId }))) throw AppError.notFound(what);
  return listWithin({ customer: toObjectId(customerId) }, query, principal);
}

/**
 * GET /interactions/user/:id. The original documented both a user's and a customer's interactions at this
 * path (SPEC §4): a user id wins; an id that is no user's is tried as a customer's. Every refusal is the
 * same 404, so the answer never tells a user id from a customer id or from nobody's.
 */
export async function listUserInteractions(id: string, query: ListInteractionsQuery, principal: Principal) {
  const what = 'User or customer';
  if (await User.exists({ _id: id })) {
    const mayRead = principal.type === 'user' && (principal.id === id || can(principal, 'interactions:read-all'));
    if (!mayRead) throw AppError.notFound(what);
    return listWithin({ user: toObjectId(id) }, query, principal);
  }
  return listCustomerInteractions(id, query, principal, what);
}
