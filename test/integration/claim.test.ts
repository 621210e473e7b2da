import { beforeEach, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { withClaim, type ClaimDocument, type ClaimOptions } from '../../src/database/claim';
import { useTestDatabase } from '../helpers/db';

// The claim one process holds at a time across instances (the analytics counters' folder and rebuilder use
// it), against the real database: exclusion, stale takeover, the wait limit, the heartbeat and the release.

useTestDatabase();

const claims = () => mongoose.connection.collection<ClaimDocument>('claim_probe');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class ClaimTimeout extends Error {}

function options(overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return {
    collection: claims(),
    id: 'probe-lock',
    maxWaitMs: 10_000,
    staleMs: 60_000,
    heartbeatMs: 5_000,
    onTimeout: () => new ClaimTimeout('claim not had in time'),
    ...overrides,
  };
}

describe('withClaim', () => {
  beforeEach(async () => {
    await claims().deleteMany({});
  });

  it('runs the work holding the claim document and deletes it after', async () => {
    const during = await withClaim(options(), () => claims().find({}).toArray());
    expect(during).toEqual([expect.objectContaining({ _id: 'probe-lock', token: expect.any(String), claimed_at: expect.any(Date) })]);
    expect(await claims().countDocuments()).toBe(0);
  });

  it('lets one holder in at a time', async () => {
    let inside = 0;
    let most = 0;
    const work = async () => {
      inside += 1;
      most = Math.max(most, inside);
      await sleep(50);
      inside -= 1;
    };
    await Promise.all(Array.from({ length: 4 }, () => withClaim(options(), work)));
    expect(most).toBe(1);
    expect(await claims().countDocuments()).toBe(0);
  });

  it('takes over a claim whose holder stopped refreshing it', async () => {
    await claims().insertOne({ _id: 'probe-lock', token: 'crashed', claimed_at: new Date(Date.now() - 61_000) });
    const holder = await withClaim(options(), async () => (await claims().findOne({ _id: 'probe-lock' }))?.token);
    expect(holder).not.toBe('crashed');
    expect(await claims().countDocuments()).toBe(0);
  });

  it('throws the given error after maxWaitMs while a live holder keeps the claim, and leaves its claim alone', async () => {
    await claims().insertOne({ _id: 'probe-lock', token: 'alive', claimed_at: new Date() });
    let ran = false;
    const attempt = withClaim(options({ maxWaitMs: 200 }), () => {
      ran = true;
      return Promise.resolve();
    });
    await expect(attempt).rejects.toBeInstanceOf(ClaimTimeout);
    expect(ran).toBe(false);
    expect(await claims().findOne({ _id: 'probe-lock' })).toEqual(expect.objectContaining({ token: 'alive' }));
  });

  it('refreshes the claim while the work runs, so a long holder is not taken for crashed', async () => {
    const seen = await withClaim(options({ heartbeatMs: 50 }), async () => {
      const first = (await claims().findOne({ _id: 'probe-lock' }))?.claimed_at.getTime() ?? 0;
      await sleep(300);
      const later = (await claims().findOne({ _id: 'probe-lock' }))?.claimed_at.getTime() ?? 0;
      return { first, later };
    });
    expect(seen.later).toBeGreaterThan(seen.first);
  });

  it('releases the claim when the work fails', async () => {
    await expect(
      withClaim(options(), () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await claims().countDocuments()).toBe(0);
    expect(await withClaim(options({ maxWaitMs: 0 }), () => Promise.resolve('free again'))).toBe('free again');
  });
});
