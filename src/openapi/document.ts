import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { stringify } from 'yaml';
import { registry } from './registry';
// Each import registers one route group's operations.
import './ops.openapi';
import './auth.openapi';
import './user.openapi';
import './customer.openapi';
import './interaction.openapi';
import './ticket.openapi';
import './notification.openapi';
import './activity.openapi';
import './outbox.openapi';
import './import.openapi';
import './analytics.openapi';

export function buildOpenApiDocument() {
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'CRM API',
      version: '1.0.0',
      description:
        'Staff users, customers, interactions, tickets, notifications, import/export and analytics. ' +
        'Authenticate with the access JWT in a `token` header or as `Authorization: Bearer <jwt>`. ' +
        'Request field names match case-insensitively. Errors always have the `Error` shape. ' +
        'Besides the statuses listed per route, any request may be answered 408 (its body did not arrive within BODY_TIMEOUT_MS; ' +
        'the connection closes), 429 (too many unfinished request bodies from one client), 431 (headers too large) ' +
        'or 400 (a request that is not valid HTTP), all with the `Error` shape.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'The server this document is served from' }],
  });
}

let cached: string | undefined;

/** The document as YAML; generated once per process from the same zod schemas that validate requests. */
export function openApiYaml(): string {
  cached ??= stringify(buildOpenApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
  return cached;
}
