import { describe, expect, it } from '@jest/globals';
import { CompactStringSet } from '../../src/utils/compact-string-set';

describe('CompactStringSet (in-file duplicate e-mails)', () => {
  it('remembers 200k keys through resizes and answers the first value of a repeated key', () => {
    const set = new CompactStringSet(16);
    for (let i = 0; i < 200_000; i += 1) expect(set.addOrGet(`user.${i}@example.com`, i + 1)).toBeUndefined();
    expect(set.size).toBe(200_000);
    expect(set.addOrGet('user.0@example.com', 999)).toBe(1);
    expect(set.addOrGet('user.199999@example.com', 999)).toBe(200_000);
    expect(set.addOrGet('someone.new@example.com', 5)).toBeUndefined();
    expect(set.size).toBe(200_001);
  });

  it('answers has() for added keys only', () => {
    const set = new CompactStringSet(16);
    for (let i = 0; i < 50_000; i += 2) set.addOrGet(`user.${i}@example.com`, 1);
    let found = 0;
    for (let i = 0; i < 50_000; i += 1) if (set.has(`user.${i}@example.com`)) found += i % 2 === 0 ? 1 : 1000;
    expect(found).toBe(25_000);
  });
});
