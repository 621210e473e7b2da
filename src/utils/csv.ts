// CSV helpers shared by export and the analytics reports.

/** Characters that make spreadsheet applications treat a cell as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Makes a cell safe to open in a spreadsheet: a value starting with `=`, `+`, `-`, `@`, tab or CR
 * gets a leading apostrophe, which spreadsheets show as text and never evaluate.
 */
export function neutraliseCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The value a CSV cell shows: dates in ISO 8601, absent values empty, strings neutralised. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return neutraliseCell(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return neutraliseCell(JSON.stringify(value));
}
