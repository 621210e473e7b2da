import '../helpers/env/phone-region-de';
import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import mongoose from 'mongoose';
import request from 'supertest';
import { Customer } from '../../src/models/customer.model';
import { DuplicateMark } from '../../src/models/duplicate-mark.model';
import { Deletion } from '../../src/models/trash.model';
import { refreshDuplicateKeys } from '../../src/services/duplicates.service';
import { backfillDuplicateKeys, backfillMarkSlots, runMigrations } from '../../src/services/migrations.service';
import { buildTestApp } from '../helpers/app';
import { createActors, createStaff, type Actor, type Actors } from '../helpers/auth';
import { useTestDatabase } from '../helpers/db';
import { buildCustomer, type CustomerInput } from '../factories/customer';

useTestDatabase();
const app = buildTestApp();
let actors: Actors;
beforeAll(async () => {
  actors = await createActors(app);
});

interface Group {
  rule: string;
  key: string;
  customers: { id: string; email: string; owner_id: string | null }[];
}

/** A customer created through the API, with no phone and company unless the test gives them. */
async function create(fields: Partial<CustomerInput>, by: Actor = actors.manager): Promise<string> {
  const res = await request(app)
    .post('/customers')
    .set(by.headers)
    .send(buildCustomer({ phone: undefined, company: undefined, ...fields }));
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function patch(id: string, body: Record<string, unknown>): Promise<void> {
  const res = await request(app).patch(`/customers/${id}`).set(actors.manager.headers).send(body);
  expect(res.status).toBe(200);
}

/** Every group the caller sees, following next_cursor to the end. */
async function allGroups(by: Actor = actors.manager, query = ''): Promise<Group[]> {
  const groups: Group[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page += 1) {
    const res = await request(app)
      .get(`/customers/duplicates?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`)
      .set(by.headers);
    expect(res.status).toBe(200);
    groups.push(...(res.body.groups as Group[]));
    cursor = res.body.next_cursor as string | null;
    if (!cursor) return groups;
  }
  throw new Error('more than 100 pages');
}

/** The group (if any) whose members include this customer, under the rule. */
async function groupOf(id: string, rule: string, by: Actor = actors.manager): Promise<Group | undefined> {
  return (await allGroups(by, `&rule=${rule}`)).find((group) => group.customers.some((c) => c.id === id));
}
const ids = (group: Group | undefined) => (group?.customers.map((c) => c.id) ?? []).sort();

describe('GET /customers/duplicates: the phone rule', () => {
  it('groups an international number with the same number written nationally (DEFAULT_PHONE_REGION=DE)', async () => {
    const a = await create({ phone: '+49 30 1234567' });
    const b = await create({ phone: '030 1234567' });
    const other = await create({ phone: '+49 30 7654321' });
    const group = await groupOf(a, 'phone');
    expect(group).toMatchObject({ rule: 'phone', key: '+49301234567' });
    expect(ids(group)).toEqual([a, b].sort());
    expect(await groupOf(other, 'phone')).toBeUndefined();
    // Each member is the public view: no password hash, no stored keys.
    expect(Object.keys(group?.customers[0] ?? {})).not.toEqual(expect.arrayContaining(['phone_key']));
    expect(group?.customers[0]).toHaveProperty('email');
  });

  it('compares an unparsable phone by its digits, and never one shorter than 7 digits', async () => {
    // Too long for any country: no E.164 form.
    const a = await create({ phone: '12345678901234567890' });
    const b = await create({ phone: '1234-5678-9012-3456-7890' });
    const shortA = await create({ phone: '12 34' });
    const shortB = await create({ phone: '1234' });
    const group = await groupOf(a, 'phone');
    expect(group?.key).toBe('12345678901234567890');
    expect(ids(group)).toEqual([a, b].sort());
    expect(await groupOf(shortA, 'phone')).toBeUndefined();
    expect(await groupOf(shortB, 'phone')).toBeUndefined();
    expect(await Customer.findById(shortA).select('+phone_key').lean()).not.toHaveProperty('phone_key');
  });
});

describe('GET /customers/duplicates: the e-mail rule', () => {
  it('treats gmail.com and googlemail.com addresses alike without dots and +tags', async () => {
    const a = await create({ email: 'J.Doe+x@gmail.com' });
    const b = await create({ email: 'jdoe@googlemail.com' });
    const group = await groupOf(a, 'email');
    expect(group).toMatchObject({ rule: 'email', key: 'jdoe@gmail.com' });
    expect(ids(group)).toEqual([a, b].sort());
  });

  it('keeps dots significant at other domains', async () => {
    const a = await create({ email: 'j.doe@example.com' });
    await create({ email: 'jdoe@example.com' });
    expect(await groupOf(a, 'email')).toBeUndefined();
  });
});

describe('GET /customers/duplicates: the name rule', () => {
  it('groups the same name in the same company, whatever the case and spacing', async () => {
    const a = await create({ name: 'Grace  Hopper', company: 'Remington Rand' });
    const b = await create({ name: 'grace hopper', company: 'REMINGTON  RAND' });
    const group = await groupOf(a, 'name');
    expect(group).toMatchObject({ rule: 'name', key: 'grace hopper\u0000remington rand' });
    expect(ids(group)).toEqual([a, b].sort());
  });

  it('does not group the same name in another company, or without a company', async () => {
    const a = await create({ name: 'Alan Kay', company: 'Xerox' });
    await create({ name: 'Alan Kay', company: 'Apple' });
    const loneA = await create({ name: 'Edsger Dijkstra' });
    await create({ name: 'Edsger Dijkstra' });
    expect(await groupOf(a, 'name')).toBeUndefined();
    expect(await groupOf(loneA, 'name')).toBeUndefined();
  });
});

describe('GET /customers/duplicates: groups follow writes', () => {
  it('drops a group when an update breaks it, and forms one when an update joins it', async () => {
    const a = await create({ phone: '+44 20 7946 0001' });
    const b = await create({ phone: '+44 20 7946 0001' });
    const c = await create({ phone: '+44 20 7946 0002' });
    expect(ids(await groupOf(a, 'phone'))).toEqual([a, b].sort());

    await patch(b, { phone: '+44 20 7946 0003' });
    expect(await groupOf(a, 'phone')).toBeUndefined();
    // The stale marks were dropped (b's by its update, a's by the read that found it alone).
    expect(await DuplicateMark.countDocuments({ key: 'phone:+442079460001' })).toBe(0);

    await patch(c, { phone: '020 7946 0003' }); // the UK national form, read in region DE: a German number
    expect(await groupOf(b, 'phone')).toBeUndefined();
    await patch(c, { phone: '+44 (0)20 7946 0003' });
    expect(ids(await groupOf(b, 'phone'))).toEqual([b, c].sort());
    await patch(c, { phone: null });
    expect(await groupOf(b, 'phone')).toBeUndefined();
  });

  it('forgets a customer that leaves the collection (as the trash and a merge do)', async () => {
    const a = await create({ email: 'left.behind+crm@gmail.com' });
    const b = await create({ email: 'leftbehind@gmail.com' });
    expect(ids(await groupOf(a, 'email'))).toEqual([a, b].sort());
    await Customer.collection.deleteOne({ _id: new mongoose.Types.ObjectId(b) });
    expect(await groupOf(a, 'email')).toBeUndefined();
  });

  it('drops a trashed customer from its group and puts it back on restore, beside a duplicate created meanwhile', async () => {
    const a = await create({ phone: '+49 30 5550101' });
    const b = await create({ phone: '030 5550101' });
    expect(ids(await groupOf(a, 'phone'))).toEqual([a, b].sort());
    expect((await request(app).delete(`/customers/${b}`).set(actors.manager.headers)).status).toBe(200);
    expect(await groupOf(a, 'phone')).toBeUndefined();
    // Created while b is in the trash: a's only live duplicate is c.
    const c = await create({ phone: '+4930 555 0101' });
    expect(ids(await groupOf(a, 'phone'))).toEqual([a, c].sort());
    const deletion = await Deletion.findOne({ record_id: new mongoose.Types.ObjectId(b) }).lean();
    const restored = await request(app)
      .post(`/trash/${String(deletion?._id)}/restore`)
      .set(actors.manager.headers);
    expect(restored.status).toBe(200);
    expect(ids(await groupOf(b, 'phone'))).toEqual([a, b, c].sort());
  });

  it('leaves no group behind a merge of the duplicates, and brings it back with the undo', async () => {
    const a = await create({ name: 'Merge Me', company: 'Dup Merge GmbH' });
    const b = await create({ name: 'merge  me', company: 'DUP MERGE GMBH' });
    expect(ids(await groupOf(a, 'name'))).toEqual([a, b].sort());
    const merged = await request(app)
      .post(`/customers/${a}/merge`)
      .set(actors.manager.headers)
      .send({ source_ids: [b] });
    expect(merged.status).toBe(201);
    expect(await groupOf(a, 'name')).toBeUndefined();
    const undone = await request(app)
      .post(`/merges/${String(merged.body.merge_id)}/undo`)
      .set(actors.manager.headers);
    expect(undone.status).toBe(200);
    expect(ids(await groupOf(a, 'name'))).toEqual([a, b].sort());
  });

  it('finds the duplicates an import creates, within the file and with stored customers', async () => {
    const stored = await create({ phone: '+33 1 23 45 67 89' });
    const csv = [
      'name,email,company,phone',
      'Imported One,imported.one@import.test,,+33 1 23 45 67 89',
      'Imported Two,imported.two@import.test,Initech,+1 212 555 0100',
      'imported  two,imported.three@import.test,INITECH,',
    ].join('\n');
    const res = await request(app).post('/import/customer_data').set(actors.manager.headers).set('Content-Type', 'text/csv').send(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ inserted: 3, failed: 0 });
    const one = await Customer.findOne({ email: 'imported.one@import.test' }).lean();
    const phoneGroup = await groupOf(stored, 'phone');
    expect(ids(phoneGroup)).toEqual([stored, one?._id.toHexString()].sort());
    const two = await Customer.findOne({ email: 'imported.two@import.test' }).lean();
    const nameGroup = await groupOf(two?._id.toHexString() ?? '', 'name');
    expect(nameGroup?.key).toBe('imported two\u0000initech');
    expect(nameGroup?.customers).toHaveLength(2);
  });
});

describe('GET /customers/duplicates: paging and scope', () => {
  it('pages over groups with next_cursor in one stable order, never repeating one', async () => {
    for (const n of [1, 2, 3]) {
      await create({ email: `pager.${n}@gmail.com` });
      await create({ email: `pager${n}+again@googlemail.com` });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let link: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const res: request.Response = await request(app)
        .get(`/customers/duplicates?rule=email&limit=1${cursor ? `&cursor=${cursor}` : ''}`)
        .set(actors.admin.headers);
      expect(res.status).toBe(200);
      expect(res.body.groups.length).toBeLessThanOrEqual(1);
      seen.push(...res.body.groups.map((g: Group) => g.key));
      cursor = res.body.next_cursor;
      if (page === 0) link = res.headers.link;
      if (!cursor) break;
    }
    expect(link).toMatch(/^<\/customers\/duplicates\?rule=email&limit=1&cursor=[\w-]+>; rel="next"$/);
    expect(seen).toEqual(expect.arrayContaining(['pager1@gmail.com', 'pager2@gmail.com', 'pager3@gmail.com']));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.every((key) => key.includes('@'))).toBe(true);
    // Pages of one group walk the same order as one page of them all.
    expect((await allGroups(actors.admin, '&rule=email')).map((group) => group.key)).toEqual(seen);
  });

  it('walks narrow slot ranges, widening them, without missing or repeating a group', async () => {
    const rows = ['name,email'];
    for (let n = 0; n < 150; n += 1) rows.push(`Wide ${n},wide.${n}@gmail.com`, `Wide ${n} Again,wide${n}+x@googlemail.com`);
    const res = await request(app)
      .post('/import/customer_data')
      .set(actors.manager.headers)
      .set('Content-Type', 'text/csv')
      .send(rows.join('\n'));
    expect(res.body).toMatchObject({ inserted: 300, failed: 0 });
    for (const n of [1, 2]) {
      await create({ email: `narrow.${n}@gmail.com` }, actors.user);
      await create({ email: `narrow${n}+y@googlemail.com` }, actors.user);
    }
    // A page sizes its ranges from the marks' count, read again once it is a minute old: two minutes on, from 300+.
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now + 120_000);
    try {
      for (const _ of [1, 2]) await request(app).get('/customers/duplicates?limit=1').set(actors.admin.headers);
      const keys = (await allGroups(actors.admin, '&rule=email')).map((group) => group.key);
      expect(keys).toEqual(expect.arrayContaining(Array.from({ length: 150 }, (_, n) => `wide${n}@gmail.com`)));
      expect(new Set(keys).size).toBe(keys.length);
      const paged: string[] = [];
      let cursor: string | null = '';
      for (let page = 0; page < 200 && cursor !== null; page += 1) {
        const next: request.Response = await request(app)
          .get(`/customers/duplicates?rule=email&limit=3${cursor}`)
          .set(actors.admin.headers);
        expect(next.status).toBe(200);
        paged.push(...next.body.groups.map((group: Group) => group.key));
        cursor = next.body.next_cursor === null ? null : `&cursor=${next.body.next_cursor}`;
      }
      expect(paged).toEqual(keys);
      const users = (await allGroups(actors.user, '&rule=email')).map((group) => group.key);
      expect(users).toEqual(expect.arrayContaining(['narrow1@gmail.com', 'narrow2@gmail.com']));
    } finally {
      clock.mockRestore();
    }
  });

  it('shows at most 50 members of a large group, and pages past it', async () => {
    const members = [];
    for (let n = 0; n < 55; n += 1) members.push(await create({ phone: '+61 2 9374 4000' })); // a switchboard
    // Walk the phone groups one by one up to the switchboard's.
    let res: request.Response | undefined;
    let cursor = '';
    for (let page = 0; page < 100 && res?.body.groups[0]?.key !== '+61293744000'; page += 1) {
      res = await request(app).get(`/customers/duplicates?rule=phone&limit=1${cursor}`).set(actors.admin.headers);
      expect(res.status).toBe(200);
      cursor = `&cursor=${res.body.next_cursor}`;
    }
    expect(res?.body.groups).toHaveLength(1);
    expect(res?.body.groups[0]).toMatchObject({ key: '+61293744000' });
    expect(res?.body.groups[0].customers).toHaveLength(50);
    const next = await request(app).get(`/customers/duplicates?rule=phone&limit=1${cursor}`).set(actors.admin.headers);
    expect(next.status).toBe(200);
    expect(next.body.groups[0]?.key ?? null).not.toBe('+61293744000');
    expect(await DuplicateMark.countDocuments({ key: 'phone:+61293744000' })).toBe(55);
    // Behind the crowded phone key, an e-mail duplicate of one of its holders is still found.
    const first = await create({ phone: '+61 2 9374 4000', email: 'switch.board@gmail.com' });
    const second = await create({ phone: '+61 2 9374 4000', email: 'switchboard+2@googlemail.com' });
    expect(ids(await groupOf(second, 'email'))).toEqual([first, second].sort());
  });

  it('shows a USER only the groups of two or more customers it owns', async () => {
    const mine1 = await create({ phone: '+91 98450 00001' }, actors.user);
    const mine2 = await create({ phone: '+91 98450 00001' }, actors.user);
    const theirs = await create({ phone: '+91 98450 00001' }, actors.otherUser);
    const alone = await create({ phone: '+91 98450 00002' }, actors.user);
    await create({ phone: '+91 98450 00002' }, actors.otherUser);

    expect(ids(await groupOf(mine1, 'phone', actors.user))).toEqual([mine1, mine2].sort());
    expect(ids(await groupOf(mine1, 'phone', actors.admin))).toEqual([mine1, mine2, theirs].sort());
    expect(await groupOf(theirs, 'phone', actors.otherUser)).toBeUndefined();
    expect(await groupOf(alone, 'phone', actors.user)).toBeUndefined();
    // Handing a customer over moves it out of its former owner's groups.
    await patch(mine2, { owner_id: actors.otherUser.id });
    expect(await groupOf(mine1, 'phone', actors.user)).toBeUndefined();
    expect(ids(await groupOf(theirs, 'phone', actors.otherUser))).toEqual([mine2, theirs].sort());
  });

  it('lists the groups of every rule without a rule filter, e-mail before name before phone', async () => {
    const groups = await allGroups(actors.admin);
    const rules = groups.map((group) => group.rule);
    expect(new Set(rules)).toEqual(new Set(['email', 'name', 'phone']));
    expect([...rules].sort()).toEqual(rules);
    const byRule = await Promise.all(['email', 'name', 'phone'].map((rule) => allGroups(actors.admin, `&rule=${rule}`)));
    expect(groups).toEqual(byRule.flat());
  });

  it('starts a rule from its first group when the cursor is of an earlier rule, and ends when of a later one', async () => {
    const a = await create({ phone: '+91 98450 00077' });
    await create({ phone: '+91 98450 00077' });
    const emails = await request(app).get('/customers/duplicates?rule=email&limit=1').set(actors.admin.headers);
    const phones = await request(app).get('/customers/duplicates?rule=phone&limit=100').set(actors.admin.headers);
    expect(emails.body.next_cursor).toEqual(expect.any(String));
    const fromEmail = await request(app)
      .get(`/customers/duplicates?rule=phone&limit=100&cursor=${emails.body.next_cursor}`)
      .set(actors.admin.headers);
    expect(fromEmail.status).toBe(200);
    expect(fromEmail.body.groups).toEqual(phones.body.groups);
    expect(fromEmail.body.groups.some((group: Group) => group.customers.some((c) => c.id === a))).toBe(true);
    const lastPhone = await request(app).get('/customers/duplicates?rule=phone&limit=1').set(actors.admin.headers);
    const backwards = await request(app)
      .get(`/customers/duplicates?rule=email&limit=100&cursor=${lastPhone.body.next_cursor}`)
      .set(actors.admin.headers);
    expect(backwards.status).toBe(200);
    expect(backwards.body).toEqual({ groups: [], next_cursor: null });
  });

  it("hands a deleted USER's groups to the user who takes over its customers", async () => {
    const leaving = await createStaff(app, actors.admin, 'USER', 'leaving');
    const a = await create({ phone: '+91 98450 00009' }, leaving);
    const b = await create({ phone: '+91 98450 00009' }, leaving);
    expect(ids(await groupOf(a, 'phone', leaving))).toEqual([a, b].sort());
    const res = await request(app).delete(`/users/${leaving.id}?reassign_to=${actors.otherUser.id}`).set(actors.admin.headers);
    expect(res.status).toBe(200);
    expect(ids(await groupOf(a, 'phone', actors.otherUser))).toEqual([a, b].sort());
  });

  it('answers 400 for a bad rule, limit or cursor', async () => {
    const cursors = [
      'zip:1',
      'phone:+61293', // a key, not a position
      'phone:00000000000g:', // not a slot
      'phone:000000000000:+61293744000', // a key out of its slot
    ].map((text) => `cursor=${Buffer.from(text).toString('base64url')}`);
    for (const query of ['rule=fax', 'limit=0', 'limit=101', 'cursor=not!base64', ...cursors]) {
      const res = await request(app).get(`/customers/duplicates?${query}`).set(actors.admin.headers);
      expect(res.status).toBe(400);
      expect(res.body.code).toBeDefined();
    }
  });
});

describe('refreshDuplicateKeys and the start-up backfill', () => {
  it('replaces the single-field key indexes with (key, _id) ones, and lookups still find the groups', async () => {
    await Customer.collection.createIndex({ phone_key: 1 });
    await Customer.collection.createIndex({ name_key: 1 });
    await runMigrations();
    const indexes = (await Customer.collection.indexes()).map((index) => index.name);
    expect(indexes).toEqual(expect.arrayContaining(['phone_key_1__id_1', 'email_key_1__id_1', 'name_key_1__id_1']));
    expect(indexes).not.toContain('phone_key_1');
    expect(indexes).not.toContain('name_key_1');
    const a = await create({ phone: '+44 20 7946 0018' });
    const b = await create({ phone: '020 7946 0018', email: 'uk.local@example.co.uk' });
    // Region DE reads the national form as German: a third with the international form joins a.
    const c = await create({ phone: '+442079460018' });
    expect(ids(await groupOf(a, 'phone'))).toEqual([a, c].sort());
    expect(await groupOf(b, 'phone')).toBeUndefined();
  });

  it('gives marks stored before marks had a slot their slot, and their groups come back', async () => {
    const a = await create({ email: 'slotless.one@gmail.com' });
    const b = await create({ email: 'slotlessone+x@googlemail.com' });
    expect(ids(await groupOf(a, 'email'))).toEqual([a, b].sort());
    await DuplicateMark.collection.updateMany({ key: 'email:slotlessone@gmail.com' }, { $unset: { slot: '' } });
    expect(await groupOf(a, 'email')).toBeUndefined();
    expect(await backfillMarkSlots()).toBe(2);
    expect(ids(await groupOf(a, 'email'))).toEqual([a, b].sort());
    expect(await backfillMarkSlots()).toBe(0);
  });

  it('recomputes the keys and marks of customers changed outside the customer routes', async () => {
    const a = await create({ phone: '+31 20 555 0101' });
    const b = await create({ phone: '+31 20 555 0199' });
    // A write that bypasses the routes (a merge filling a field, a restore): the keys are stale until refreshed.
    await Customer.collection.updateOne(
      { _id: new mongoose.Types.ObjectId(b) },
      { $set: { phone: '0031 20 555 0101', company: 'Philips' } },
    );
    expect(await groupOf(a, 'phone')).toBeUndefined();
    await refreshDuplicateKeys([b]);
    expect(await Customer.findById(b).select('+phone_key +name_key').lean()).toMatchObject({ phone_key: '+31205550101' });
    expect(ids(await groupOf(a, 'phone'))).toEqual([a, b].sort());
    // A customer that is gone loses its marks.
    await Customer.collection.deleteOne({ _id: new mongoose.Types.ObjectId(b) });
    await refreshDuplicateKeys([new mongoose.Types.ObjectId(b)]);
    expect(await DuplicateMark.countDocuments({ customer: new mongoose.Types.ObjectId(b) })).toBe(0);
  });

  it('gives customers stored before the keys existed their keys and marks', async () => {
    const owner = new mongoose.Types.ObjectId(actors.manager.id);
    const base = { status: 'lead', owner, tags: [], token_version: 0, created_at: new Date(), updated_at: new Date() };
    const [x, y] = [new mongoose.Types.ObjectId(), new mongoose.Types.ObjectId()];
    await Customer.collection.insertMany([
      { _id: x, ...base, name: 'Old One', email: 'old.one@example.org', phone: '+39 06 1234 5678' },
      { _id: y, ...base, name: 'Old Two', email: 'old.two@example.org', phone: '06 1234 5678 ' },
    ]);
    expect(await backfillDuplicateKeys()).toBeGreaterThanOrEqual(2);
    expect(await Customer.findById(x).select('+email_key +phone_key').lean()).toMatchObject({
      email_key: 'old.one@example.org',
      phone_key: '+390612345678',
    });
    // Region DE reads the national form as a German number: not the Italian one, so only x's key is E.164 Italian.
    expect(await groupOf(x.toHexString(), 'phone')).toBeUndefined();
    await Customer.collection.updateOne({ _id: y }, { $set: { phone: '+39 06 12345678' }, $unset: { email_key: '' } });
    await backfillDuplicateKeys();
    expect(ids(await groupOf(x.toHexString(), 'phone'))).toEqual([x.toHexString(), y.toHexString()].sort());
  });
});
