// The practical limit the service is measured against (npm run bench:api): a bare node:http server that does
// the same work per request as the service — verifies the same JWT (jsonwebtoken, same secret, issuer and
// audience), runs the same queries with the raw mongodb driver (a customer write also inserts the activity
// entry and the analytics delta the service records, and an update reads the record before it), decrypts the
// same fields and serialises the same JSON — and nothing else (no framework, no validation library, no
// logging, no rate limit). Lists do not count: the service's X-Total-Count has to earn its keep.
//
// With BASELINE_TRANSACTIONS=1 each customer write and its two side entries commit in one transaction (the
// driver's withTransaction), as the service's do on a replica set: the "baseline+tx" column of bench:api.
//
// With BASELINE_EXPRESS=1 the same work runs behind Express 5 instead of node:http: an app with express.json() and
// one route per path, answering with res.json() (Express's defaults: ETag, content type), and nothing else — the
// "floor" of bench:api, what the framework alone costs before any middleware the service adds.
//
// Run as its own process: node --import tsx bench/lib/baseline.ts, with MONGODB_URI, JWT_SECRET,
// DATA_ENCRYPTION_KEY and PORT in its environment. Prints {"port":N} when listening.
import { createSecretKey } from 'node:crypto';
import http from 'node:http';
import express from 'express';
import jwt from 'jsonwebtoken';
import { MongoClient, ObjectId, type ClientSession, type Filter } from 'mongodb';
import { appMessageClasses } from '../../src/utils/app-message-classes';
import { createKeyring, decryptText } from '../../src/utils/crypto';

const env = process.env;
// A key object made once, as the service does: given the secret as a string, jsonwebtoken first tries (and fails)
// to parse it as a public key on every verify, ~0.3 ms a request (until issue 17's seventh round the baseline
// paid that, and its figures were that much slower than the practical limit).
const secret = createSecretKey(Buffer.from(env.JWT_SECRET ?? '', 'utf8'));
const issuer = env.JWT_ISSUER ?? 'crm-api';
const audience = env.JWT_AUDIENCE ?? 'crm-clients';
const keyring = createKeyring({ id: env.DATA_ENCRYPTION_KEY_ID ?? 'k1', key: env.DATA_ENCRYPTION_KEY ?? '' });

const client = new MongoClient(env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/crm');
const db = client.db();
interface Address {
  street?: string;
  city?: string;
  state?: string;
  postal_code?: string;
  country?: string;
}
interface CustomerDoc {
  _id: ObjectId;
  name: string;
  email: string;
  company?: string;
  phone?: string;
  status: string;
  owner?: ObjectId;
  tags?: string[];
  address?: Address;
  token_version: number;
  search_terms: string[];
  created_at: Date;
  updated_at: Date;
}
interface InteractionDoc {
  _id: ObjectId;
  customer: ObjectId;
  user: ObjectId;
  type: string;
  title?: string;
  notes?: string;
  outcome?: string;
  status: string;
  scheduled_at?: Date;
  due_at?: Date;
  completed_at?: Date;
  occurs_at: Date;
  created_at: Date;
  updated_at: Date;
}
const customers = db.collection<CustomerDoc>('customers');
const interactions = db.collection<InteractionDoc>('interactions');
// What every customer write also records in the service (SPEC §5): an activity entry and an analytics delta.
const activity = db.collection('activity');
const deltas = db.collection('analytics_deltas');

const transactions = env.BASELINE_TRANSACTIONS === '1';
const framework = env.BASELINE_EXPRESS === '1';

/** `work` in one transaction with BASELINE_TRANSACTIONS=1, else plainly; it gets the session options to pass. */
async function write<T>(work: (options: { session?: ClientSession }) => Promise<T>): Promise<T> {
  if (!transactions) return work({});
  const session = client.startSession();
  try {
    return await session.withTransaction(() => work({ session }));
  } finally {
    await session.endSession();
  }
}

/** The service's two side writes for a customer change: a delta of its counters and an activity entry. */
async function recordCustomerChange(
  actor: string,
  before: CustomerDoc | null,
  after: CustomerDoc,
  fields: string[],
  options: { session?: ClientSession },
) {
  const day = after.created_at.toISOString().slice(0, 10);
  const owner = hex(after.owner) ?? '';
  const entries = (doc: CustomerDoc, sign: number) => [
    { id: `c:${day.slice(0, 7)}`, e: 'c', p: day, f: { [`st|${doc.status}|${owner}`]: sign, [`co|${doc.company ?? ''}|${owner}`]: sign } },
    { id: 'c:all', e: 'c', p: 'all', f: { [`st|${doc.status}|${owner}`]: sign } },
  ];
  await deltas.insertOne({ u: [...(before ? entries(before, -1) : []), ...entries(after, 1)] }, options);
  await activity.insertOne(
    {
      at: new Date(),
      actor_type: 'user',
      actor: new ObjectId(actor),
      action: before ? 'update' : 'create',
      entity: 'customer',
      entity_id: after._id,
      customer: after._id,
      fields,
    },
    options,
  );
}

interface Claims {
  sub: string;
  typ: string;
  role: string;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (framework) {
    (res as express.Response).status(status).set(headers).json(body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function authenticate(req: http.IncomingMessage): Claims | undefined {
  const raw = (req.headers.token as string | undefined) ?? req.headers.authorization?.replace(/^bearer\s+/i, '');
  if (!raw) return undefined;
  try {
    return jwt.verify(raw, secret, { algorithms: ['HS256'], issuer, audience }) as Claims;
  } catch {
    return undefined;
  }
}

const hex = (id: ObjectId | undefined) => (id ? id.toHexString() : null);

function customerView(c: Omit<CustomerDoc, 'search_terms' | 'token_version'>) {
  const id = c._id.toHexString();
  const a = c.address;
  return {
    id,
    customer_id: id,
    name: c.name,
    email: c.email,
    company: c.company ?? null,
    phone: c.phone ?? null,
    status: c.status,
    owner_id: hex(c.owner),
    tags: c.tags ?? [],
    address: a
      ? {
          street: a.street ?? null,
          city: a.city ?? null,
          state: a.state ?? null,
          postal_code: a.postal_code ?? null,
          country: a.country ?? null,
        }
      : null,
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

function interactionView(i: InteractionDoc) {
  const id = i._id.toHexString();
  const open = (field: 'notes' | 'outcome') => {
    const stored = i[field];
    return stored ? decryptText(stored, keyring, `interaction:${id}:${field}`) : null;
  };
  return {
    id,
    interaction_id: id,
    customer_id: hex(i.customer),
    user_id: hex(i.user),
    type: i.type,
    title: i.title ?? null,
    status: i.status,
    scheduled_at: i.scheduled_at ?? null,
    due_at: i.due_at ?? null,
    completed_at: i.completed_at ?? null,
    occurs_at: i.occurs_at,
    created_at: i.created_at,
    updated_at: i.updated_at,
    notes: open('notes'),
    outcome: open('outcome'),
  };
}

const hidden = { projection: { password_hash: 0, search_terms: 0 } };

function searchTerms(fields: { name?: string; email?: string; company?: string }): string[] {
  const text = [fields.name, fields.email, fields.email?.split('@')[0], fields.company].filter(Boolean).join(' ');
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
  const full = [fields.email?.toLowerCase(), fields.name?.toLowerCase(), fields.company?.toLowerCase()].filter((v): v is string =>
    Boolean(v),
  );
  return [...new Set([...words, ...full])];
}

async function listCustomers(url: URL, res: http.ServerResponse) {
  const limit = Math.min(100, Number(url.searchParams.get('limit') ?? 20));
  const filter: Filter<CustomerDoc> = {};
  const q = url.searchParams.get('q');
  if (q) {
    const terms = q
      .toLowerCase()
      .split(/[^\p{L}\p{N}@.+_-]+/u)
      .filter(Boolean)
      .slice(0, 5);
    filter.$and = terms.map((t) => ({ search_terms: { $regex: `^${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` } }));
  }
  let query: Filter<CustomerDoc> = filter;
  const after = url.searchParams.get('after');
  if (after) {
    const cursor = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as { v: string; id: string };
    const value = new Date(cursor.v);
    const id = new ObjectId(cursor.id);
    query = { $and: [filter, { $or: [{ created_at: { $gt: value } }, { created_at: value, _id: { $gt: id } }] }] };
  }
  const rows = await customers
    .find(query, hidden)
    .sort({ created_at: 1, _id: 1 })
    .limit(limit + 1)
    .toArray();
  const items = rows.slice(0, limit);
  const headers: Record<string, string> = {};
  const last = items.at(-1);
  if (rows.length > limit && last) {
    const next = Buffer.from(
      JSON.stringify({ s: 'created_at', id: last._id.toHexString(), t: 'date', v: last.created_at.toISOString() }),
    ).toString('base64url');
    url.searchParams.set('after', next);
    headers.Link = `<${url.pathname}${url.search}>; rel="next"`;
  }
  send(res, 200, items.map(customerView), headers);
}

function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  if (framework) return Promise.resolve((req as express.Request).body as Record<string, unknown>);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok' });
  const claims = authenticate(req);
  if (!claims) return send(res, 401, { error: 'Authentication required', code: 'UNAUTHORIZED' });
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] === 'customers' && parts.length === 1 && req.method === 'GET') return listCustomers(url, res);
  if (parts[0] === 'customers' && parts.length === 1 && req.method === 'POST') {
    const body = await readBody(req);
    const now = new Date();
    const text = (value: unknown) => (typeof value === 'string' ? value.trim() : undefined);
    const doc: CustomerDoc = {
      _id: new ObjectId(),
      name: String(body.name).trim(),
      email: String(body.email).trim().toLowerCase(),
      ...(text(body.company) ? { company: text(body.company) } : {}),
      ...(text(body.phone) ? { phone: text(body.phone) } : {}),
      status: (body.status as string | undefined) ?? 'lead',
      owner: new ObjectId(claims.sub),
      tags: (body.tags as string[] | undefined) ?? [],
      token_version: 0,
      search_terms: searchTerms(body),
      created_at: now,
      updated_at: now,
    };
    await write(async (options) => {
      await customers.insertOne(doc, options);
      await recordCustomerChange(claims.sub, null, doc, [], options);
    });
    const view = customerView(doc);
    return send(res, 201, view, { Location: `/customers/${view.id}` });
  }
  if (parts[0] === 'customers' && parts.length === 2 && ObjectId.isValid(parts[1] ?? '')) {
    const _id = new ObjectId(parts[1]);
    if (req.method === 'GET') {
      const found = await customers.findOne({ _id }, hidden);
      return found ? send(res, 200, customerView(found)) : send(res, 404, { error: 'Customer not found', code: 'NOT_FOUND' });
    }
    if (req.method === 'PATCH') {
      const body = await readBody(req);
      const before = await customers.findOne({ _id }, hidden);
      if (!before) return send(res, 404, { error: 'Customer not found', code: 'NOT_FOUND' });
      const updated = await write(async (options) => {
        const result = await customers.updateOne({ _id }, { $set: { ...body, updated_at: new Date() } }, options);
        if (result.matchedCount === 0) return null;
        const after = await customers.findOne({ _id }, { ...hidden, ...options });
        if (after) await recordCustomerChange(claims.sub, before, after, Object.keys(body).sort(), options);
        return after;
      });
      if (!updated) return send(res, 404, { error: 'Customer not found', code: 'NOT_FOUND' });
      return send(res, 200, { message: 'Customer updated successfully', customer: customerView(updated) });
    }
  }
  if (parts[0] === 'interactions' && parts.length === 2 && req.method === 'GET' && ObjectId.isValid(parts[1] ?? '')) {
    const found = await interactions.findOne({ _id: new ObjectId(parts[1]) });
    return found ? send(res, 200, interactionView(found)) : send(res, 404, { error: 'Interaction not found', code: 'NOT_FOUND' });
  }
  send(res, 404, { error: 'Not found', code: 'NOT_FOUND' });
}

/** The Express floor: one route per path the bench loads, each handing the request to the same work. */
function expressApp(serve: (req: http.IncomingMessage, res: http.ServerResponse) => void): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json());
  app.get('/healthz', serve);
  app.route('/customers').get(serve).post(serve);
  app.route('/customers/:id').get(serve).patch(serve);
  app.get('/interactions/:id', serve);
  return app;
}

async function main() {
  await client.connect();
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error), code: 'INTERNAL' }));
  };
  // The floor's server is built as the service's is (src/http-server.ts): requests born with the app's prototypes.
  const app = framework ? expressApp(serve) : undefined;
  const server = app ? http.createServer(appMessageClasses(app), app) : http.createServer(serve);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeIdleConnections();
    void client.close().then(() => process.exit(0));
  });
}

void main();
