import { Readable, Transform, type TransformCallback } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Types } from 'mongoose';
import { Customer } from '../../models/customer.model';
import type { ExportCustomersQuery, ExportFormat } from '../../schemas/export.schema';
import { csvCell } from '../../utils/csv';
import { customerFilter } from '../customer.service';

export const csvColumns = [
  'id',
  'name',
  'email',
  'company',
  'phone',
  'status',
  'owner_id',
  'tags',
  'address_street',
  'address_city',
  'address_state',
  'address_postal_code',
  'address_country',
  'created_at',
  'updated_at',
] as const;

const addressParts = ['street', 'city', 'state', 'postal_code', 'country'] as const;
/** Documents per cursor batch, and rows the export reads ahead. */
const EXPORT_BATCH = 1000;

interface StoredCustomer {
  _id: Types.ObjectId;
  name: string;
  email: string;
  company?: string;
  phone?: string;
  status: string;
  owner?: Types.ObjectId;
  tags?: string[];
  address?: Partial<Record<(typeof addressParts)[number], string>>;
  created_at?: Date;
  updated_at?: Date;
}

/** The exported record: the public customer fields, never a password hash, token version or search terms. */
export function exportRow(doc: StoredCustomer) {
  return {
    id: doc._id.toHexString(),
    name: doc.name,
    email: doc.email,
    company: doc.company ?? null,
    phone: doc.phone ?? null,
    status: doc.status,
    owner_id: doc.owner ? doc.owner.toHexString() : null,
    tags: doc.tags ?? [],
    address: doc.address ? Object.fromEntries(addressParts.map((part) => [part, doc.address?.[part] ?? null])) : null,
    created_at: doc.created_at?.toISOString() ?? null,
    updated_at: doc.updated_at?.toISOString() ?? null,
  };
}

/** Tags as `a; b` (what people type), or a JSON array when a tag itself holds `;` or starts with `[`. */
function tagsCell(tags: string[]): string {
  if (tags.some((t) => t.includes(';') || t.startsWith('['))) return JSON.stringify(tags);
  return tags.join('; ');
}

/** One CSV line's cells, each through csvCell: formula-like text is neutralised. */
function csvRecord(doc: StoredCustomer): string[] {
  return [
    csvCell(doc._id.toHexString()),
    csvCell(doc.name),
    csvCell(doc.email),
    csvCell(doc.company),
    csvCell(doc.phone),
    csvCell(doc.status),
    csvCell(doc.owner?.toHexString()),
    csvCell(tagsCell(doc.tags ?? [])),
    ...addressParts.map((part) => csvCell(doc.address?.[part])),
    csvCell(doc.created_at),
    csvCell(doc.updated_at),
  ];
}

function jsonLines(format: 'json' | 'ndjson'): Transform {
  let first = true;
  return new Transform({
    writableObjectMode: true,
    transform(doc: StoredCustomer, _encoding: BufferEncoding, callback: TransformCallback) {
      const text = JSON.stringify(exportRow(doc));
      if (format === 'ndjson') callback(null, `${text}\n`);
      else {
        callback(null, `${first ? '[\n' : ',\n'}${text}`);
        first = false;
      }
    },
    flush(callback: TransformCallback) {
      callback(null, format === 'json' ? (first ? '[]\n' : '\n]\n') : undefined);
    },
  });
}

/**
 * The export as a cursor stream and the serialiser it pipes into. Both are streams, so `pipeline` gives
 * backpressure (the cursor fetches the next batch only when the client has taken the previous one) and
 * closes the cursor when the client goes away. Ordered by `_id`, which needs no in-memory sort.
 */
export async function exportStreams(query: ExportCustomersQuery, format: ExportFormat): Promise<{ source: Readable; serialiser: Transform }> {
  const { format: _format, ...filters } = query;
  const found = Customer.collection
    .find<StoredCustomer>(customerFilter(filters), { projection: { password_hash: 0, search_terms: 0, token_version: 0 } })
    .sort({ _id: 1 })
    .batchSize(EXPORT_BATCH);
  const cursor = format === 'csv' ? found.map(csvRecord) : found;
  // The first batch is fetched before the response starts, so a query that fails (a database outage) still
  // gets its JSON error instead of a cut connection. The stream then begins with the buffered documents.
  try {
    await cursor.hasNext();
  } catch (error) {
    await cursor.close().catch(() => undefined);
    throw error;
  }
  // Read-ahead: the stream keeps up to one batch of rows buffered, so the cursor asks for the next batch while
  // the previous one is being serialised and sent, instead of after. Destroying the stream (the client went
  // away) ends the iteration, which closes the cursor.
  const source = Readable.from(cursor, { objectMode: true, highWaterMark: EXPORT_BATCH });
  return { source, serialiser: format === 'csv' ? stringify({ header: true, columns: [...csvColumns] }) : jsonLines(format) };
}
