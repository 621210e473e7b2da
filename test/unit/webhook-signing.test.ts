import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { maxAttemptsFor } from '../../src/services/integrations/webhook-events';
import { generateSecret, signatureHeader } from '../../src/services/integrations/webhook-signing';

describe('Standard Webhooks signatures', () => {
  it('match the standardwebhooks reference implementation, one per secret', () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const body = JSON.stringify({ id: 'evt_1', type: 'ping', created_at: '2026-01-01T00:00:00.000Z', data: { object: { é: '✓' } } });
    const timestamp = 1_767_225_600;
    const header = signatureHeader([a, b], 'evt_1', timestamp, body);
    expect(header.split(' ')).toEqual([
      new Webhook(a).sign('evt_1', new Date(timestamp * 1000), body),
      new Webhook(b).sign('evt_1', new Date(timestamp * 1000), body),
    ]);
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
  });
});

describe('retry schedule', () => {
  it('gives the attempts whose doubling delays fit in the retry window', () => {
    // 5 s, 10 s, … 40,960 s: 14 retries, 81,915 s (~22.75 h) after the first attempt.
    expect(maxAttemptsFor(5000, 24 * 3_600_000)).toBe(15);
    expect(maxAttemptsFor(5000, 0)).toBe(1);
    expect(maxAttemptsFor(1000, 3000)).toBe(3);
  });
});
