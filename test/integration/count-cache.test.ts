import { describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { cachedCount, MAX_TOTAL_TTL_MS, TOTAL_TTL_MS, totalTtlMs } from '../../src/database/count-cache';
import { useTestDatabase } from '../helpers/db';

// The list-total cache against the real database: how many counts it sends, and that a total never misses
// a write this process made before asking.

useTestDatabase();

const Probe = mongoose.model('CountProbe', new mongoose.Schema({ group: String }));

/** Probe's count, each call recorded and held back by `delayMs` so that requests overlap it. */
function countingModel(delayMs: number) {
  const calls: number[] = [];
  const model = {
    collection: Probe.collection,
    countDocuments: (filter: never) => ({
      exec: async () => {
        calls.push(Date.now());
        const started = Probe.countDocuments(filter).exec();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        return started;
      },
    }),
  };
  return { model, calls };
}

describe('cachedCount', () => {
  it('shares one count among requests that overlap it, and keeps the answer', async () => {
    await Probe.create([{ group: 'a' }, { group: 'a' }]);
    const { model, calls } = countingModel(100);
    const totals = await Promise.all(Array.from({ length: 5 }, () => cachedCount(model, { group: 'a' })));
    expect(totals).toEqual([2, 2, 2, 2, 2]);
    expect(await cachedCount(model, { group: 'a' })).toBe(2);
    expect(calls).toHaveLength(1);
    expect(await cachedCount(model, { group: 'other' })).toBe(0);
    expect(calls).toHaveLength(2);
  });

  it('after a local write, runs one trailing count for all who wait, and it includes the write', async () => {
    await Probe.create({ group: 'b' });
    const { model, calls } = countingModel(300);
    const before = cachedCount(model, { group: 'b' });
    await Probe.create({ group: 'b' }); // while the first count is in flight
    const after = await Promise.all([
      cachedCount(model, { group: 'b' }),
      cachedCount(model, { group: 'b' }),
      cachedCount(model, { group: 'b' }),
    ]);
    expect(await before).toBeGreaterThanOrEqual(1);
    expect(after).toEqual([2, 2, 2]);
    expect(calls).toHaveLength(2);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(250); // the trailing count waited for the first
  });

  it('keeps a total longer the longer it took to count, within bounds', () => {
    expect(totalTtlMs(5)).toBe(TOTAL_TTL_MS);
    expect(totalTtlMs(1500)).toBe(6000);
    expect(totalTtlMs(60_000)).toBe(MAX_TOTAL_TTL_MS);
  });
});
