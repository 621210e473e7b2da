import { activityRoutes } from './activity.routes';
import { analyticsRoutes } from './analytics.routes';
import { apiKeyRoutes } from './api-key.routes';
import { authRoutes } from './auth.routes';
import { customerRoutes } from './customer.routes';
import { importExportRoutes } from './import.routes';
import { interactionRoutes } from './interaction.routes';
import { mergeRoutes } from './merge.routes';
import { notificationRoutes } from './notification.routes';
import { opsRoutes } from './ops.routes';
import { outboxRoutes } from './outbox.routes';
import type { RouteDeclaration } from './route';
import { ticketRoutes } from './ticket.routes';
import { trashRoutes } from './trash.routes';
import { userRoutes } from './user.routes';
import { webhookRoutes } from './webhook.routes';

/**
 * Every route of the API, in the order openapi.yaml lists them. The same declarations make the Express
 * routers (routes/router.ts, which mounts literal paths before overlapping parameters), the document
 * (openapi/document.ts) and the 405 table (middleware/method-not-allowed.ts).
 */
export const apiRoutes: readonly RouteDeclaration[] = [
  ...opsRoutes,
  ...authRoutes,
  ...userRoutes,
  ...customerRoutes,
  ...interactionRoutes,
  ...ticketRoutes,
  ...notificationRoutes,
  ...activityRoutes,
  ...trashRoutes,
  ...mergeRoutes,
  ...outboxRoutes,
  ...webhookRoutes,
  ...importExportRoutes,
  ...analyticsRoutes,
  ...apiKeyRoutes,
];
