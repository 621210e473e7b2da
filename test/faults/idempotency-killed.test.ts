import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { processUnderTest, signInOps } from '../helpers/process-under-test';
import { waitForLog } from '../helpers/server-process';

// The real service process killed with SIGKILL while it holds an Idempotency-Key (an import whose upload is
// half-way), then started again: the key is not stuck for 24 h — once its lease has run out, a retry runs.

const service = processUnderTest('idem_kill', { IDEMPOTENCY_LEASE_MS: '3000' });

const csv = `name,email\n${Array.from({ length: 5 }, (_, i) => `Killed ${i},killed${i}@fault.test`).join('\n')}\n`;

function importWithKey(base: string, token: string) {
  return fetch(`${base}/import/customer_data`, {
    method: 'POST',
    headers: { token, 'content-type': 'text/csv', 'idempotency-key': 'nightly-2031-01-01' },
    body: csv,
  });
}

describe('SIGKILL while a request holds an Idempotency-Key', () => {
  it('lets a retry take the key over once the dead holder’s lease has run out, and run once', async () => {
    const first = await service.start();
    let { base } = first;
    await waitForLog(first.server, (line) => line.msg === 'created the configured ADMIN account');
    let token = await signInOps(base);

    // Half an upload: the key is claimed (after authentication), the import waits for the rest.
    const req = http.request(`${base}/import/customer_data`, {
      method: 'POST',
      headers: { token, 'content-type': 'text/csv', 'idempotency-key': 'nightly-2031-01-01', 'transfer-encoding': 'chunked' },
    });
    req.on('error', () => undefined);
    req.write(csv.slice(0, 20));
    const records = service.db().collection('idempotency_keys');
    const deadline = Date.now() + 10_000;
    while ((await records.countDocuments()) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await records.countDocuments({ state: 'running' })).toBe(1);

    await service.kill(first.server);
    base = (await service.start()).base;
    token = await signInOps(base);

    const held = await records.findOne({});
    const leaseUntil = held?.lease_until instanceof Date ? held.lease_until.getTime() : 0;
    if (Date.now() < leaseUntil - 500) expect((await importWithKey(base, token)).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, leaseUntil - Date.now() + 100)));

    const retried = await importWithKey(base, token);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await retried.json()).toMatchObject({ total: 5, inserted: 5 });
    const replayed = await importWithKey(base, token);
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(
      await service
        .db()
        .collection('customers')
        .countDocuments({ email: /@fault\.test$/ }),
    ).toBe(5);
  });
});
