import { applyCustomerChanges, type CustomerLike } from './analytics-counters.service';
import type { Readable } from 'node:stream';
import mongoose, { type Types } from 'mongoose';
import { config } from '../config/env';
import { isDuplicateKey } from '../database/errors';
import { Customer, searchTermsFor } from '../models/customer.model';
import { ImportChange, ImportJob, type ImportFormat, type ImportMode } from '../models/import-job.model';
import { User } from '../models/user.model';
import { createCustomer } from '../schemas/customer.schema';
import { AppError } from '../utils/app-error';
import { CompactStringSet } from '../utils/compact-string-set';
import { readRows, type ColumnReport, type SourceRow } from '../utils/import-parse';
import { updateDocument } from '../utils/update-document';
import { zodIssuesToDetails } from '../utils/zod-details';

const ObjectId = mongoose.Types.ObjectId;

export interface RowError {
  row: number;
  field: string;
  message: string;
}

export interface ImportReport {
  total: number;
  inserted: number;
  updated: number;
  skipped: number;
  failed: number;
  errors: RowError[];
  unknown_columns: string[];
  ignored_columns: string[];
}

export function emptyReport(): ImportReport {
  return { total: 0, inserted: 0, updated: 0, skipped: 0, failed: 0, errors: [], unknown_columns: [], ignored_columns: [] };
}

export interface RunOptions {
  jobId: Types.ObjectId;
  importerId: string;
  mode: ImportMode;
  dryRun: boolean;
  format: ImportFormat;
}

/** The fields an import sets; the before-image of an updated row keeps their previous values. */
const trackedFields = ['name', 'company', 'phone', 'status', 'owner', 'tags', 'address', 'search_terms', 'updated_at'] as const;
const clearable = new Set(['company', 'phone', 'tags', 'address', 'owner_id']);
/** A CSV export prefixes formula-like cells with an apostrophe (utils/csv.ts); the import takes it off. */
const NEUTRALISED = /^'[=+\-@\t\r]/;

interface Candidate {
  row: number;
  email: string;
  fields: {
    name: string;
    email: string;
    company?: string;
    phone?: string;
    status?: string;
    tags?: string[];
    address?: Record<string, string | undefined>;
    owner_id?: string;
  };
  clears: string[];
}

type CustomerDoc = Record<string, unknown> & { _id: Types.ObjectId; email: string; updated_at?: Date };

function parseTags(value: string): unknown {
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return value;
    }
  }
  return text.split(';').map((t) => t.trim()).filter(Boolean);
}

/** Turns a file row into the POST /customers body (plus the optional fields the row empties). */
function toCandidate(source: SourceRow, format: ImportFormat): Candidate | RowError[] {
  if (source.values.__not_object) return [{ row: source.row, field: 'row', message: 'expected an object' }];
  const input: Record<string, unknown> = {};
  const clears: string[] = [];
  const address: Record<string, unknown> = {};
  let addressPart = false;
  for (const [field, raw] of Object.entries(source.values)) {
    let value = raw;
    if (typeof value === 'string' && format === 'csv' && NEUTRALISED.test(value)) value = value.slice(1);
    const empty = value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
    if (field.startsWith('address.')) {
      addressPart = true;
      if (!empty) address[field.slice('address.'.length)] = value;
      continue;
    }
    if (empty) {
      if (clearable.has(field)) clears.push(field);
      else if (field === 'name' || field === 'email') input[field] = value ?? '';
      continue;
    }
    if (field === 'tags' && typeof value === 'string') value = parseTags(value);
    if (field === 'address' && typeof value === 'string') {
      try {
        value = JSON.parse(value) as unknown;
      } catch {
        return [{ row: source.row, field: 'address', message: 'expected a JSON object' }];
      }
    }
    if (field === 'address' && value && typeof value === 'object' && !Array.isArray(value)) {
      // An exported address lists every part, absent ones as null.
      const parts = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined && v !== '');
      if (parts.length === 0) {
        clears.push('address');
        continue;
      }
      value = Object.fromEntries(parts);
    }
    input[field] = value;
  }
  if (addressPart && input.address === undefined) {
    if (Object.keys(address).length > 0) input.address = address;
    else clears.push('address');
  }
  const parsed = createCustomer.body.safeParse(input);
  if (!parsed.success) {
    return zodIssuesToDetails(parsed.error.issues, 'row').map((d) => ({ row: source.row, field: d.field, message: d.message }));
  }
  const { password: _password, ...fields } = parsed.data;
  return { row: source.row, email: fields.email, fields, clears };
}

function normalisedAddress(value: unknown): string {
  if (!value || typeof value !== 'object') return '';
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length === 0 ? '' : JSON.stringify(entries.sort(([a], [b]) => a.localeCompare(b)));
}

function idText(value: unknown): string {
  return value instanceof ObjectId ? value.toHexString() : '';
}

function sameValue(field: string, current: unknown, next: unknown): boolean {
  if (field === 'address') return normalisedAddress(current) === normalisedAddress(next);
  if (field === 'owner') return idText(current) === idText(next);
  if (field === 'tags') return JSON.stringify(current ?? []) === JSON.stringify(next ?? []);
  return (current ?? undefined) === (next ?? undefined);
}

/**
 * Finds the stored customers of a batch's e-mails. Into an empty collection nothing is looked up. Otherwise
 * each batch asks the database (`$in` by e-mail, which MongoDB answers from the unique index). A server that
 * cannot use that index (FerretDB 1.24 reads the whole collection for every query) makes each lookup cost as
 * much as the collection is large, so once lookups have taken IMPORT_LOOKUP_BUDGET_MS in all, one scan loads
 * every stored e-mail into a compact set (about 20 MB a million) and only the rows whose e-mail is in it are
 * looked up: none, in a file of new customers. The set never needs this import's own inserts (a later row
 * with the same e-mail is an in-file duplicate), and a customer someone else creates after the scan is still
 * caught by the unique index on insert.
 */
class StoredEmails {
  private spentMs = 0;
  private known: CompactStringSet | undefined;
  private checkedEmpty = false;

  async find(emails: string[]): Promise<Map<string, CustomerDoc>> {
    if (!this.checkedEmpty) {
      // Into an empty collection (a first import, a restore), nothing needs looking up at all.
      this.checkedEmpty = true;
      if (!(await Customer.collection.findOne({}, { projection: { _id: 1 } }))) this.known = new CompactStringSet();
    }
    if (!this.known && this.spentMs >= config.dataImport.lookupBudgetMs) this.known = await this.loadAll();
    const known = this.known;
    const asked = known ? emails.filter((email) => known.has(email)) : emails;
    const found = new Map<string, CustomerDoc>();
    if (asked.length === 0) return found;
    const started = performance.now();
    const cursor = Customer.collection.find<CustomerDoc>({ email: { $in: asked } }, { projection: { password_hash: 0 } });
    for await (const doc of cursor) found.set(doc.email, doc);
    this.spentMs += performance.now() - started;
    return found;
  }

  private async loadAll(): Promise<CompactStringSet> {
    const known = new CompactStringSet();
    const cursor = Customer.collection.find<{ email: string }>({}, { projection: { _id: 0, email: 1 } }).batchSize(10_000);
    for await (const doc of cursor) known.addOrGet(doc.email, 1);
    return known;
  }
}

/**
 * Runs one pass of an import over a row stream: validates, detects in-file duplicates, and (unless a dry
 * run) writes in batches, recording each change before making it. Progress goes to the job document after
 * every batch, which is also the job's heartbeat.
 */
export class ImportRun {
  readonly report = emptyReport();
  readonly columns: ColumnReport = { unknown: this.report.unknown_columns, ignored: this.report.ignored_columns };
  private readonly seen = new CompactStringSet();
  private readonly stored = new StoredEmails();
  private batch: Candidate[] = [];
  private writing: Promise<void> = Promise.resolve();
  private writeFailure: { error: unknown } | undefined;
  private aborted: Error | undefined;

  constructor(private readonly options: RunOptions) {}

  /** Stops the run at its next batch (the job was failed elsewhere, e.g. declared stale). */
  abort(error: Error): void {
    this.aborted = error;
  }

  private fail(errors: RowError[]): void {
    this.report.failed += 1;
    for (const error of errors) {
      if (this.report.errors.length < config.dataImport.maxErrors) this.report.errors.push(error);
    }
  }

  async run(source: Readable): Promise<ImportReport> {
    try {
      await this.readAll(source);
      await this.flush();
    } finally {
      // Whatever ended the run, the batch being written is finished (and counted) before the caller records it.
      await this.writing;
    }
    if (this.writeFailure) throw this.writeFailure.error;
    // Rows are validated while the previous batch is written, so errors can arrive out of row order.
    this.report.errors.sort((a, b) => a.row - b.row);
    return this.report;
  }

  private async readAll(source: Readable): Promise<void> {
    for await (const row of readRows(source, this.options.format, this.columns)) {
      this.report.total += 1;
      const candidate = toCandidate(row, this.options.format);
      if (Array.isArray(candidate)) {
        this.fail(candidate);
        continue;
      }
      const earlier = this.seen.addOrGet(candidate.email, candidate.row);
      if (earlier !== undefined) {
        this.fail([{ row: candidate.row, field: 'email', message: `duplicate of row ${earlier} in this file` }]);
        continue;
      }
      this.batch.push(candidate);
      if (this.batch.length >= config.dataImport.batchSize) await this.flush();
    }
  }

  /**
   * Hands the batch to the writer once the previous one is written: one batch is written while the next is
   * read and validated, and batches are written in file order.
   */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.writeFailure) throw this.writeFailure.error;
    if (this.aborted) throw this.aborted;
    const batch = this.batch;
    const processed = this.report.total;
    this.batch = [];
    // The failure is kept (not left as a rejected promise nobody awaits yet) and rethrown by the next flush.
    this.writing = (async () => {
      if (batch.length > 0) await this.writeBatch(batch);
      await this.saveProgress(processed);
    })().catch((error: unknown) => {
      this.writeFailure = { error };
    });
  }

  /** Records the rows read, validated and written so far (also the job's heartbeat). */
  private async saveProgress(processed: number): Promise<void> {
    const result = await ImportJob.collection.updateOne(
      { _id: this.options.jobId, status: 'running' },
      { $set: { rows_processed: processed, report: this.report, heartbeat_at: new Date() } },
    );
    if (result.matchedCount === 0) throw new AppError(409, 'JOB_ABORTED', 'The import job was stopped (declared stale or failed)');
  }

  private async writeBatch(batch: Candidate[]): Promise<void> {
    const { mode, dryRun, jobId, importerId } = this.options;
    const existing = await this.stored.find(batch.map((c) => c.email));

    const ownerIds = [...new Set(batch.map((c) => c.fields.owner_id).filter((v): v is string => Boolean(v)))];
    const owners = new Set<string>();
    if (ownerIds.length > 0) {
      const found = User.collection.find<{ _id: Types.ObjectId }>({ _id: { $in: ownerIds.map((id) => new ObjectId(id)) } }, { projection: { _id: 1 } });
      for await (const user of found) owners.add(user._id.toHexString());
    }

    const now = new Date();
    const inserts: Record<string, unknown>[] = [];
    const insertRows = new Map<string, number>();
    const updates: { filter: Record<string, unknown>; update: Record<string, unknown> }[] = [];
    const changes: Record<string, unknown>[] = [];
    const analytics: { before: CustomerLike; after: CustomerLike }[] = [];

    for (const candidate of batch) {
      const { fields, clears, row } = candidate;
      if (fields.owner_id && !owners.has(fields.owner_id)) {
        this.fail([{ row, field: 'owner_id', message: 'no staff user with this id' }]);
        continue;
      }
      const current = existing.get(candidate.email);
      if (!current) {
        const _id = new ObjectId();
        const doc = {
          _id,
          name: fields.name,
          email: fields.email,
          ...(fields.company !== undefined && { company: fields.company }),
          ...(fields.phone !== undefined && { phone: fields.phone }),
          status: fields.status ?? 'lead',
          owner: new ObjectId(fields.owner_id ?? importerId),
          tags: fields.tags ?? [],
          ...(fields.address !== undefined && { address: fields.address }),
          token_version: 0,
          search_terms: searchTermsFor(fields),
          created_at: now,
          updated_at: now,
        };
        inserts.push(doc);
        insertRows.set(_id.toHexString(), row);
        continue;
      }
      if (mode === 'insert') {
        this.fail([{ row, field: 'email', message: 'a customer with this e-mail already exists' }]);
        continue;
      }
      if (mode === 'skip') {
        this.report.skipped += 1;
        continue;
      }
      const next: Record<string, unknown> = {
        name: fields.name,
        company: fields.company,
        phone: fields.phone,
        status: fields.status,
        tags: fields.tags,
        address: fields.address,
        owner: fields.owner_id ? new ObjectId(fields.owner_id) : undefined,
      };
      const set: Record<string, unknown> = {};
      const unset: Record<string, ''> = {};
      for (const [field, value] of Object.entries(next)) {
        if (value !== undefined && !sameValue(field, current[field], value)) set[field] = value;
      }
      for (const field of clears) {
        const target = field === 'owner_id' ? 'owner' : field;
        if (target === 'tags') {
          if (Array.isArray(current.tags) && current.tags.length > 0) set.tags = [];
        } else if (current[target] !== undefined && current[target] !== null) unset[target] = '';
      }
      if (Object.keys(set).length === 0 && Object.keys(unset).length === 0) {
        this.report.skipped += 1;
        continue;
      }
      if ('name' in set || 'company' in set || 'company' in unset) {
        set.search_terms = searchTermsFor({
          name: (set.name as string | undefined) ?? (current.name as string),
          email: current.email,
          company: 'company' in unset ? undefined : ((set.company as string | undefined) ?? (current.company as string | undefined)),
        });
      }
      set.updated_at = now;
      const before: Record<string, unknown> = {};
      for (const field of trackedFields) before[field] = current[field] ?? null;
      changes.push({ job: jobId, customer: current._id, row, action: 'updated', written_at: now, before });
      const after: Record<string, unknown> = { ...current, ...set };
      for (const field of Object.keys(unset)) delete after[field];
      analytics.push({ before: current as unknown as CustomerLike, after: after as unknown as CustomerLike });
      updates.push({ filter: { _id: current._id }, update: updateDocument({ set, unset }) });
    }

    if (dryRun) {
      this.report.inserted += inserts.length;
      this.report.updated += updates.length;
      return;
    }
    // The change records go first: a crash after them and before the writes leaves a revert with nothing to
    // undo for those rows, never a write that a revert cannot find.
    // Created rows: one record per batch (ids and row numbers), half the writes of one per row.
    if (inserts.length > 0) {
      changes.push({ job: jobId, action: 'created', customers: inserts.map((d) => d._id), rows: [...insertRows.values()], written_at: now });
    }
    if (changes.length > 0) await ImportChange.collection.insertMany(changes);
    const inserted = inserts.length > 0 ? await this.insertAll(inserts, insertRows) : [];
    if (updates.length > 0) {
      const result = await Customer.collection.bulkWrite(updates.map((u) => ({ updateOne: u })));
      this.report.updated += result.matchedCount;
    }
    // Bulk writes bypass the per-request hooks, so the analytics counters get this batch's changes here.
    await applyCustomerChanges([
      ...inserted.map((doc) => ({ before: null, after: doc as unknown as CustomerLike })),
      ...analytics,
    ]);
  }

  /**
   * insertMany, and when it stops on a duplicate (another writer took an e-mail since the lookup; FerretDB
   * also ignores ordered:false), finds what went in and inserts the rest one by one.
   */
  private async insertAll(docs: Record<string, unknown>[], rows: Map<string, number>): Promise<Record<string, unknown>[]> {
    try {
      await Customer.collection.insertMany(docs);
      this.report.inserted += docs.length;
      return docs;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const ids = docs.map((d) => d._id as Types.ObjectId);
    const present = new Set<string>();
    for await (const doc of Customer.collection.find<{ _id: Types.ObjectId }>({ _id: { $in: ids } }, { projection: { _id: 1 } })) {
      present.add(doc._id.toHexString());
    }
    this.report.inserted += present.size;
    const written = docs.filter((doc) => present.has((doc._id as Types.ObjectId).toHexString()));
    for (const doc of docs) {
      const id = (doc._id as Types.ObjectId).toHexString();
      if (present.has(id)) continue;
      try {
        await Customer.collection.insertOne(doc);
        written.push(doc);
        this.report.inserted += 1;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        this.fail([{ row: rows.get(id) ?? 0, field: 'email', message: 'a customer with this e-mail was created by someone else during the import' }]);
      }
    }
    return written;
  }
}
