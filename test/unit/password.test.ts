import { describe, expect, it } from '@jest/globals';
import { hashPassword, verifyPassword } from '../../src/utils/password';

async function median(times: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

describe('verifyPassword', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('wrong horse battery', hash)).toBe(false);
  });

  it('spends a bcrypt comparison on unknown accounts too, so both failures take about as long', async () => {
    const hash = await hashPassword('correct horse battery');
    await verifyPassword('warm-up', undefined);
    const unknownAccount = await median(7, () => verifyPassword('guess', undefined));
    const wrongPassword = await median(7, () => verifyPassword('guess', hash));
    const withoutDummy = await median(7, () => Promise.resolve(false));
    // Without the dummy comparison the unknown-account path would be ~1000x faster.
    expect(unknownAccount).toBeGreaterThan(withoutDummy * 50);
    expect(unknownAccount / wrongPassword).toBeGreaterThan(0.3);
    expect(unknownAccount / wrongPassword).toBeLessThan(3);
  });
});
