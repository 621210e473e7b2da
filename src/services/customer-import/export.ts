import { Readable, Transform, type TransformCallback } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Types } from 'mongoose';
import { addressParts, Customer, publicCustomer, publicCustomerFields, type AddressPart } from '../../models/customer.model';
import type { ExportCustomersQuery, ExportFormat } from '../../schemas/export.schema';
import { csvCell } from '../../utils/csv';
import { customerFilter } from '../customer.service';

/** Documents per cursor batch, and rows the export reads ahead. */
const EXPORT_BATCH = 1000;

/** CSV columns: the export row flattened, each address part in a column of its own. */
const csvColumns = [
  'id',
  ...publicCustomerFields.flatMap((field) => (field === 'address' ? addressParts.map((part) => `address_${part}`) : [field])),
];

interface StoredCustomer {
  _id: Types.ObjectId;
  name: string;
  email: string;
  company?: string;
  phone?: string;
  status: string;
  owner?: Types.ObjectId;
  tags?: string[];
  address?: Partial<Record<AddressPart, string>>;
  created_at?: Date;
  updated_at?: Date;
}

/** The exported record: the id and the public customer fields, never a password hash, token version or search terms. */
function exportRow(doc: StoredCustomer) {
  return { id: doc._id.toHexString(), ...publicCustomer(doc) };
}

/** Tags as `a; b` (what people type), or a JSON array when a tag itself holds `;` or starts with `[`. */
function tagsCell(tags: string[]): string {
  if (tags.some((t) => t.includes(';') || t.startsWith('['))) return JSON.stringify(tags);
  return tags.join('; ');
}

/** One CSV line's cells, in csvColumns order, each through csvCell: formula-like text is neutralised. */
function csvRecord(doc: StoredCustomer): string[] {
  const row = exportRow(doc);
  const cells = [csvCell(row.id)];
  for (const field of publicCustomerFields) {
    if (field === 'tags') cells.push(csvCell(tagsCell(row.tags)));
    else if (field === 'address') for (const part of addressParts) cells.push(csvCell(row.address?.[part]));
    else cells.push(csvCell(row[field]));
  }
  return cells;
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
export async function exportStreams(
  query: ExportCustomersQuery,
  format: ExportFormat,
): Promise<{ source: Readable; serialiser: Transform }> {
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
