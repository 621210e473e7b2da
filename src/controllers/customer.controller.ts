import type { Request, Response } from 'express';
import * as schemas from '../schemas/customer.schema';
import { parsedBody, parsedParams, parsedQuery } from '../middleware/validate';
import * as customerService from '../services/customer.service';
import { sendPage } from './list-response';
import { currentPrincipal } from '../middleware/authenticate';

export async function listCustomers(req: Request, res: Response) {
  sendPage(req, res, await customerService.listCustomers(parsedQuery(res, schemas.listCustomers)));
}

export async function createCustomer(_req: Request, res: Response) {
  const customer = await customerService.createCustomer(parsedBody(res, schemas.createCustomer), currentPrincipal(res));
  res.status(201).location(`/customers/${customer.id}`).json(customer);
}

export async function getCustomer(_req: Request, res: Response) {
  res.json(await customerService.getCustomer(parsedParams(res, schemas.getCustomer).cust_id, currentPrincipal(res)));
}

export async function updateCustomer(_req: Request, res: Response) {
  const { cust_id: id } = parsedParams(res, schemas.updateCustomer);
  const customer = await customerService.updateCustomer(id, parsedBody(res, schemas.updateCustomer), currentPrincipal(res));
  res.json({ message: 'Customer updated successfully', customer });
}

export async function deleteCustomer(_req: Request, res: Response) {
  const { cust_id: id } = parsedParams(res, schemas.deleteCustomer);
  const cascade = parsedQuery(res, schemas.deleteCustomer).cascade === 'true';
  await customerService.deleteCustomer(id, cascade, currentPrincipal(res));
  res.json({ message: 'Customer deleted successfully' });
}
