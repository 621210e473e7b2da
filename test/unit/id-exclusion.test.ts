import { describe, expect, it } from '@jest/globals';
import { Types } from 'mongoose';
import { excludingIds } from '../../src/utils/id-exclusion';

// excludingIds: the longest run of ids made one after another becomes a range, the rest a $nin.

/** An id of `second`, process bytes `process` (5 bytes, as hex) and counter `counter`. */
function idOf(second: number, process: string, counter: number): Types.ObjectId {
  return new Types.ObjectId(`${second.toString(16).padStart(8, '0')}${process}${counter.toString(16).padStart(6, '0')}`);
}

/** Whether `id` is left out by the condition, evaluated as the database would. */
function excluded(condition: ReturnType<typeof excludingIds>, id: Types.ObjectId): boolean {
  const hex = id.toHexString();
  if (condition.$nin.some((other) => other.toHexString() === hex)) return true;
  const range = condition.$not;
  return range !== undefined && hex >= range.$gte.toHexString() && hex <= range.$lte.toHexString();
}

describe('excludingIds', () => {
  it('makes one range of ids made in a row by one process, in any order given', () => {
    const run = Array.from({ length: 1000 }, (_, n) => idOf(1_700_000_000, 'aaaaaaaaaa', 5000 + n));
    const condition = excludingIds([...run].reverse());
    expect(condition.$not?.$gte.toHexString()).toBe(run[0]?.toHexString());
    expect(condition.$not?.$lte.toHexString()).toBe(run[999]?.toHexString());
    expect(condition.$nin).toEqual([]);
    for (const id of run) expect(excluded(condition, id)).toBe(true);
  });

  it('keeps every id another process or another second made, and the rest of a broken run goes to $nin', () => {
    const first = Array.from({ length: 5 }, (_, n) => idOf(1_700_000_000, 'aaaaaaaaaa', 0xfffffa + n)); // up to 0xfffffe
    const afterGap = [idOf(1_700_000_000, 'aaaaaaaaaa', 10)];
    const nextSecond = Array.from({ length: 3 }, (_, n) => idOf(1_700_000_001, 'aaaaaaaaaa', 20 + n));
    const ours = [...first, ...afterGap, ...nextSecond];
    const condition = excludingIds(ours);
    for (const id of ours) expect(excluded(condition, id)).toBe(true);
    // The longest run (five) is the range; the other four are named.
    expect(condition.$nin).toHaveLength(4);
    const others = [
      idOf(1_700_000_000, 'aaaaaaaaab', 0xfffffb), // another process, same second, counter inside the run's
      idOf(1_700_000_000, 'aaaaaaaaa9', 0xfffffc),
      idOf(1_700_000_000, 'aaaaaaaaaa', 11), // this process, between the named ids
      idOf(1_700_000_000, 'aaaaaaaaaa', 0xffffff), // this process, right after the run
      idOf(1_700_000_001, 'aaaaaaaaaa', 21 + 5), // the next second
    ];
    for (const id of others) expect(excluded(condition, id)).toBe(false);
  });

  it('names every id when no two were made in a row, and nothing when given nothing', () => {
    const ids = [idOf(1_700_000_000, 'aaaaaaaaaa', 1), idOf(1_700_000_000, 'aaaaaaaaaa', 3), idOf(1_700_000_002, 'bbbbbbbbbb', 2)];
    expect(excludingIds(ids)).toEqual({ $nin: ids });
    expect(excludingIds([])).toEqual({ $nin: [] });
  });

  it('breaks a run where the counter wraps', () => {
    const ids = [idOf(1_700_000_000, 'aaaaaaaaaa', 0xffffff), idOf(1_700_000_000, 'aaaaaaaaaa', 0)];
    expect(excludingIds(ids).$not).toBeUndefined();
    // The one in between in byte order (counter 0x000001 … 0xfffffe) is not left out.
    expect(excluded(excludingIds(ids), idOf(1_700_000_000, 'aaaaaaaaaa', 5))).toBe(false);
  });
});
