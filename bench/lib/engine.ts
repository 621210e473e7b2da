import { detectCapabilities } from '../../src/database/capabilities';
import { createMongoClient } from '../../src/database/connect';

const names = { mongodb: 'MongoDB', ferretdb: 'FerretDB', secantusdb: 'SecantusDB' } as const;

/**
 * The engine a benchmark runs on, as the service detects it ("SecantusDB 0.5.3-beta.196, replica-set:
 * transactions, change streams"), so every printed figure names its engine.
 */
export async function describeEngine(uri: string): Promise<string> {
  return (await inspectEngine(uri)).description;
}

/** describeEngine's text, and whether the engine has transactions (a bench then also measures with them). */
export async function inspectEngine(uri: string): Promise<{ description: string; transactions: boolean }> {
  const client = createMongoClient(uri, { serverSelectionTimeoutMS: 10_000 });
  try {
    const found = await detectCapabilities(client.db(), { transactions: true, changeStreams: true });
    const features = [found.transactions ? 'transactions' : '', found.changeStreams ? 'change streams' : ''].filter(Boolean);
    const description = `${names[found.engine]} ${found.version}, ${found.topology}${features.length > 0 ? `: ${features.join(', ')}` : ''}`;
    return { description, transactions: found.transactions };
  } finally {
    await client.close();
  }
}
