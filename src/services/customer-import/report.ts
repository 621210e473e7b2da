/** One failed row of an import: the row number, the field at fault and why. */
export interface RowError {
  row: number;
  field: string;
  message: string;
}

/** What an import did, row by row in sum (the body of POST /import/customer_data and of a job). */
export interface ImportReport {
  total: number;
  inserted: number;
  updated: number;
  skipped: number;
  failed: number;
  errors: RowError[];
  unknown_columns: string[];
  ignored_columns: string[];
}

export function emptyReport(): ImportReport {
  return { total: 0, inserted: 0, updated: 0, skipped: 0, failed: 0, errors: [], unknown_columns: [], ignored_columns: [] };
}
