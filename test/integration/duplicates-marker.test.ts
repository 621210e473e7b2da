import '../helpers/env/phone-region-de';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { CommandStartedEvent } from 'mongodb';
import mongoose from 'mongoose';
import request from 'supertest';
import { engineCapabilities } from '../../src/database/capabilities';
import { lookupScansCollection } from '../../src/services/duplicates.service';
import { buildTestApp } from '../helpers/app';
import { createActors, PASSWORD, type Actors } from '../helpers/auth';
import { testMongoUri, useTestDatabase } from '../helpers/db';
import { buildCustomer, type CustomerInput } from '../factories/customer';

// The customer routes' writes mark likely duplicates after their commit, out of the request's path, batched by one
// flush at a time (src/services/duplicate-marker.service.ts). Observed through HTTP, and through the driver's
// command monitoring on this file's own connection (the one the app uses) for how many lookups the marks cost.

useTestDatabase({
  uri: () => {
    const url = new URL(testMongoUri());
    url.searchParams.set('monitorCommands', 'true');
    return url.toString();
  },
});
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

/** The commands this connection sends while `watching` is on. */
const sent: CommandStartedEvent[] = [];
let watching = false;
beforeAll(() => {
  mongoose.connection.getClient().on('commandStarted', (event) => {
    if (watching) sent.push(event);
  });
});
afterEach(() => {
  watching = false;
  sent.length = 0;
});

/**
 * The lookups of customers by a duplicate key: the `find`s on customers whose filter names one, or (where the engine
 * scans for them, and the lookup reads every customer's keys) whose projection does.
 */
const markLookups = () =>
  sent.filter(
    (event) =>
      event.commandName === 'find' &&
      event.command.find === 'customers' &&
      /"(phone|email|name)_key"/.test(JSON.stringify([event.command.filter, event.command.projection])),
  );
/** The writes of marks. */
const markWrites = () => sent.filter((event) => event.commandName === 'update' && event.command.update === 'duplicate_marks');

interface Group {
  rule: string;
  key: string;
  customers: { id: string }[];
}

async function createAll(inputs: Partial<CustomerInput>[]): Promise<string[]> {
  const answers = await Promise.all(
    inputs.map((fields) =>
      request(app)
        .post('/customers')
        .set(actors.manager.headers)
        .send(buildCustomer({ phone: undefined, company: undefined, ...fields })),
    ),
  );
  for (const res of answers) expect(res.status).toBe(201);
  return answers.map((res) => res.body.id as string);
}

/** The group of this rule and key on the first page (right after the writes: read-your-writes on this instance). */
async function group(rule: string, key: string): Promise<string[] | undefined> {
  const res = await request(app).get(`/customers/duplicates?rule=${rule}&limit=100`).set(actors.manager.headers);
  expect(res.status).toBe(200);
  const found = (res.body.groups as Group[]).find((g) => g.key === key);
  return found?.customers.map((c) => c.id).sort();
}

describe('duplicate marks written after the answer', () => {
  it('groups concurrent creates and a sign-up sharing one phone, and a pair sharing an e-mail key, on the next read', async () => {
    const phone = '+49 89 4455667';
    const phoneIds = await createAll(Array.from({ length: 8 }, (_, n) => ({ phone: n % 2 === 0 ? phone : '089 4455667' })));
    const [signup, emailIds] = await Promise.all([
      request(app).post('/customer/signup').send({ name: 'Signed Up', email: 'signed.up@example.com', password: PASSWORD, phone }),
      createAll([{ email: 'Pair.Member+crm@gmail.com' }, { email: 'pairmember@googlemail.com' }]),
    ]);
    expect(signup.status).toBe(201);
    const signupId = signup.body.insertId.InsertedID as string;

    expect(await group('phone', '+49894455667')).toEqual([...phoneIds, signupId].sort());
    expect(await group('email', 'pairmember@gmail.com')).toEqual([...emailIds].sort());
  });

  it('forms the group when a PATCH gives a customer the key of another', async () => {
    const [a, b] = await createAll([{ phone: '+49 40 3344551' }, { phone: '+49 40 3344552' }]);
    expect(await group('phone', '+49403344551')).toBeUndefined();
    const res = await request(app).patch(`/customers/${b}`).set(actors.manager.headers).send({ phone: '040 3344551' });
    expect(res.status).toBe(200);
    expect(await group('phone', '+49403344551')).toEqual([a, b].sort());
  });

  it('looks up while creates go on where the key index answers, and only in a pause where the engine scans', async () => {
    const scans = await lookupScansCollection();
    // FerretDB 1.24 answers any filter but one on `_id` by a scan; SecantusDB and MongoDB from the index.
    expect(scans).toBe(engineCapabilities().engine === 'ferretdb');
    watching = true;
    // Creates every 200 ms for 1.6 s: no pause of LULL_MS (1 s) until they end.
    const ids: string[] = [];
    for (let n = 0; n < 8; n += 1) {
      ids.push(...(await createAll([{ phone: '+49 69 5566778' }])));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(markLookups().length > 0).toBe(!scans);
    // Without a read of groups, the marks are written once the writes pause (scan) or right away (index).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(markLookups().length).toBeGreaterThan(0);
    expect(await group('phone', '+49695566778')).toEqual([...ids].sort());
  });

  it('marks concurrent creates in batches: fewer lookups and mark writes than creates', async () => {
    watching = true;
    const ids = await createAll(Array.from({ length: 20 }, () => ({ phone: '+49 69 1122334' })));
    expect(await group('phone', '+49691122334')).toEqual([...ids].sort());
    // Every create was marked (above), by fewer commands than one lookup and one write per create.
    expect(markLookups().length).toBeGreaterThan(0);
    expect(markLookups().length).toBeLessThan(20);
    expect(markWrites().length).toBeGreaterThan(0);
    expect(markWrites().length).toBeLessThan(20);
  });
});
