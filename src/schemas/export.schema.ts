import { z } from 'zod';
import { listCustomers } from './customer.schema';

export const exportFormats = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof exportFormats)[number];

const { q, status, company, owner, tag } = listCustomers.query.shape;

export const exportCustomers = {
  query: z
    .object({
      format: z.enum(exportFormats).optional().meta({ description: 'Overrides the Accept header; CSV when neither says' }),
      q,
      status,
      company,
      owner,
      tag,
    })
    .strict(),
};
export type ExportCustomersQuery = z.output<typeof exportCustomers.query>;
