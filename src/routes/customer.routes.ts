import { Router } from 'express';
import * as customers from '../controllers/customer.controller';
import { authenticate, authorize } from '../middleware/authenticate';
import { validate } from '../middleware/validate';
import * as schemas from '../schemas/customer.schema';

export function customerRoutes(): Router {
  const router = Router();
  router.get('/customers', authenticate, authorize('customers:read'), validate(schemas.listCustomers), customers.listCustomers);
  router.post('/customers', authenticate, authorize('customers:write'), validate(schemas.createCustomer), customers.createCustomer);
  router.get('/customers/:cust_id', authenticate, authorize('customers:read', 'customers:self'), validate(schemas.getCustomer), customers.getCustomer);
  router.patch('/customers/:cust_id', authenticate, authorize('customers:write', 'customers:self'), validate(schemas.updateCustomer), customers.updateCustomer);
  router.delete('/customers/:cust_id', authenticate, authorize('customers:delete'), validate(schemas.deleteCustomer), customers.deleteCustomer);
  return router;
}
