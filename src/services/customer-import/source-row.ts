import { AppError } from '../../utils/app-error';

/** A row larger than this is refused: a customer record is a few hundred bytes. */
export const MAX_ROW_BYTES = 1024 * 1024;

/**
 * One data row of the file: its 1-based number (header excluded), its starting line, and its fields. The
 * JSON readers yield `SourceRow<unknown>` (an element may be any JSON value; readRows checks it is an object).
 */
export interface SourceRow<Values = Record<string, unknown>> {
  row: number;
  line: number;
  values: Values;
}

/** The message of an error thrown by a parser (JSON.parse throws a SyntaxError). */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The 400 a reader answers for a file it cannot parse, naming where. */
export function malformed(format: string, where: string, message: string): AppError {
  return AppError.badRequest(`Malformed ${format} at ${where}: ${message}`, [{ location: 'file', field: where, message }]);
}
