import { describe, expect, it, jest } from '@jest/globals';
import bcrypt from 'bcrypt';
import { config } from '../../src/config/env';
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

  it('spends a bcrypt comparison of the configured cost on unknown accounts too, so both failures take about as long', async () => {
    const hash = await hashPassword('correct horse battery');
    const compare = jest.spyOn(bcrypt, 'compare');
    try {
      // The work is the same by construction: one comparison against a hash of the same cost as a real one.
      expect(await verifyPassword('guess', undefined)).toBe(false);
      expect(await verifyPassword('guess', null)).toBe(false);
      expect(compare).toHaveBeenCalledTimes(2);
      for (const [password, compared] of compare.mock.calls) {
        expect(password).toBe('guess');
        expect(typeof compared === 'string' && bcrypt.getRounds(compared)).toBe(config.auth.bcryptCost);
      }
      expect(bcrypt.getRounds(hash)).toBe(config.auth.bcryptCost);
    } finally {
      compare.mockRestore();
    }

    // The wall clock agrees, within bounds wide enough for a loaded machine: without the dummy comparison the
    // unknown-account path would be about a thousand times faster than a wrong password. Figures are printed.
    await verifyPassword('warm-up', undefined);
    const unknownAccount = await median(7, () => verifyPassword('guess', undefined));
    const wrongPassword = await median(7, () => verifyPassword('guess', hash));
    const withoutDummy = await median(7, () => Promise.resolve(false));
    expect(unknownAccount).toBeGreaterThan(withoutDummy * 10);
    expect(unknownAccount / wrongPassword).toBeGreaterThan(0.1);
    expect(unknownAccount / wrongPassword).toBeLessThan(10);
    process.stdout.write(
      `\n[password] median: unknown account ${(unknownAccount / 1e6).toFixed(2)} ms, wrong password ${(wrongPassword / 1e6).toFixed(2)} ms, no comparison ${(withoutDummy / 1e6).toFixed(3)} ms\n`,
    );
  });
});
