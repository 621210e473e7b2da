import { z } from 'zod';

export const healthResponse = z
  .object({
    status: z.literal('ok'),
    uptime_seconds: z.number().nonnegative(),
  })
  .strict()
  .meta({ id: 'Health' });

export const readinessResponse = z
  .object({
    status: z.literal('ready'),
    checks: z.object({ database: z.literal('up'), setup: z.literal('done') }).strict(),
    engine: z
      .object({
        name: z.enum(['mongodb', 'ferretdb', 'secantusdb']),
        version: z.string(),
        topology: z.enum(['replica-set', 'sharded', 'standalone']),
        transactions: z.boolean().describe('entity writes and the entries they cause commit in one transaction'),
        change_streams: z.boolean().describe('the outbox worker wakes on a change stream instead of polling'),
        ttl_indexes: z.boolean().nullable().describe("expiry by the server's TTL monitor (false: the service sweeps)"),
      })
      .strict()
      .describe('What the database engine can do, detected once at start'),
  })
  .strict()
  .meta({ id: 'Readiness' });
