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
    checks: z.object({ database: z.literal('up') }).strict(),
  })
  .strict()
  .meta({ id: 'Readiness' });
