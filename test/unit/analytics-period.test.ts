import { describe, expect, it } from '@jest/globals';
import { counterField, parseField, resolvePeriod } from '../../src/services/analytics';

describe('analytics counter fields', () => {
  it('round-trips values with separators, dots and dollar signs', () => {
    for (const company of ['A.B:C', '$where', 'x:0123456789abcdef01234567', '', 'Ünïcödé & Co.']) {
      const field = counterField('co', company, '0123456789abcdef01234567');
      expect(field).not.toMatch(/[.$]/);
      expect(field.split(':')).toHaveLength(3);
      expect(parseField(field)).toEqual({ dimension: 'co', value: company, user: '0123456789abcdef01234567' });
    }
    expect(parseField(counterField('st', 'open', null))).toEqual({ dimension: 'st', value: 'open', user: '' });
  });
});

describe('analytics periods', () => {
  const now = new Date('2024-03-10T15:00:00Z');

  it('defaults to the 30 UTC days ending today', () => {
    const period = resolvePeriod({}, now);
    expect(period).toMatchObject({ from: '2024-02-10', to: '2024-03-10' });
    expect(period.days).toHaveLength(30);
    expect(period.days).toContain('2024-02-29');
  });

  it('takes whole days whatever the time part, both ends included', () => {
    const period = resolvePeriod({ from: new Date('2023-12-31T23:59:59Z'), to: new Date('2024-01-01T00:00:00Z') }, now);
    expect(period.days).toEqual(['2023-12-31', '2024-01-01']);
  });

  it('refuses a reversed period and one over 3660 days', () => {
    expect(() => resolvePeriod({ from: new Date('2024-03-02'), to: new Date('2024-03-01') }, now)).toThrow(/Request validation failed/);
    expect(() => resolvePeriod({ from: new Date('2014-01-01'), to: new Date('2024-03-01') }, now)).toThrow();
    expect(resolvePeriod({ from: new Date('2014-03-11'), to: new Date('2024-03-10') }, now).days).toHaveLength(3653);
  });
});
