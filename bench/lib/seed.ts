import { ObjectId, type MongoClient } from 'mongodb';
import { derivedCustomerFields } from '../../src/models/customer.model';
import { encryptText, type Keyring } from '../../src/utils/crypto';
import { dateBuckets } from '../../src/utils/date-buckets';

// Seeding for the API benches (bench:api, bench:profile): the raw driver, large batches, documents exactly as
// the Customer and Interaction models store them.

const firstNames = ['Ada', 'Alan', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger'];
const lastNames = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'Dijkstra'];
export const statuses = ['lead', 'prospect', 'active', 'inactive'] as const;
/** One company in 200 is "Northwind": the filtered search matches 0.5% of the collection. */
const companyOf = (i: number) => (i % 200 === 7 ? 'Northwind Traders' : `Company ${i % 997}`);
export const epoch = Date.UTC(2024, 0, 1);

export interface Seeded {
  count: number;
  ownerId: ObjectId;
  sampleIds: string[];
  /** Every customer's _id in insertion (= created_at) order is not kept; only the ones the bench needs. */
  idAt: Map<number, ObjectId>;
  interactionIds: string[];
}

export async function seedCustomers(client: MongoClient, seeded: Seeded, upTo: number) {
  const customers = client.db().collection('customers');
  const batchSize = 10_000;
  const started = Date.now();
  const deepIndex = Math.floor(upTo * 0.9);
  while (seeded.count < upTo) {
    const batch = [];
    for (let n = 0; n < batchSize && seeded.count < upTo; n += 1, seeded.count += 1) {
      const i = seeded.count;
      const _id = new ObjectId();
      const name = `${firstNames[i % 10]} ${lastNames[Math.floor(i / 10) % 10]} ${i}`;
      const email = `customer.${i}@example${i % 50}.com`;
      const company = companyOf(i);
      const phone = `+1 555 ${String(i).padStart(7, '0')}`;
      const at = new Date(epoch + i * 1000);
      batch.push({
        _id,
        name,
        email,
        company,
        phone,
        status: statuses[i % 4],
        owner: seeded.ownerId,
        tags: i % 3 === 0 ? ['vip'] : [],
        address: { street: `${i} Main St`, city: 'Springfield', country: 'US' },
        token_version: 0,
        // search_terms, company_key and the duplicate keys, as a create stores them (a start-up migration would
        // otherwise compute the keys of every seeded customer in each process started after the seeding).
        ...derivedCustomerFields({ name, email, company, phone }),
        created_at: at,
        updated_at: at,
      });
      if (i % Math.max(1, Math.floor(upTo / 2000)) === 0 && seeded.sampleIds.length < 2000) seeded.sampleIds.push(_id.toHexString());
      if (i === deepIndex) seeded.idAt.set(upTo, _id);
    }
    await customers.insertMany(batch);
    process.stdout.write(`\r  seeding customers: ${seeded.count}/${upTo} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  process.stdout.write('\n');
}

export async function seedInteractions(client: MongoClient, seeded: Seeded, keyring: Keyring) {
  const docs = seeded.sampleIds.slice(0, 1000).map((customerId, i) => {
    const _id = new ObjectId();
    const at = new Date(epoch + i * 60_000);
    const id = _id.toHexString();
    seeded.interactionIds.push(id);
    return {
      _id,
      customer: new ObjectId(customerId),
      user: seeded.ownerId,
      type: 'call',
      title: `Call ${i}`,
      notes: encryptText(`Private notes for call ${i}: discussed renewal and pricing.`, keyring, `interaction:${id}:notes`),
      outcome: encryptText('Follow up next week', keyring, `interaction:${id}:outcome`),
      status: 'completed',
      scheduled_at: at,
      completed_at: at,
      occurs_at: at,
      ...dateBuckets(at),
      created_at: at,
      updated_at: at,
    };
  });
  await client.db().collection('interactions').insertMany(docs);
}
