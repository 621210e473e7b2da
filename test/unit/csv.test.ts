import { describe, expect, it } from '@jest/globals';
import { csvCell, neutraliseCell } from '../../src/utils/csv';

describe('CSV cells', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])('neutralises a cell starting with a formula character: %j', (value) => {
    expect(neutraliseCell(value)).toBe(`'${value}`);
  });

  it('leaves ordinary text alone', () => {
    expect(neutraliseCell('Ada Lovelace')).toBe('Ada Lovelace');
    expect(neutraliseCell('a=b')).toBe('a=b');
  });

  it('writes dates in ISO 8601, absent values empty and numbers as they are', () => {
    expect(csvCell(new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000Z');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell(-3)).toBe('-3');
  });
});
