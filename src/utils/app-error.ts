export interface ErrorDetail {
  /** Where the bad value was: body, query, params, header, or a row of an import. */
  location?: string;
  field: string;
  message: string;
  /** A duplicate's 409: the id of the record that already holds the value (staff callers only). */
  existing_id?: string;
}

/** The one error type services throw. The error middleware turns it into the SPEC §5 body. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static badRequest(message: string, details?: ErrorDetail[]) {
    return new AppError(400, 'BAD_REQUEST', message, details);
  }

  static validation(details: ErrorDetail[]) {
    return new AppError(400, 'VALIDATION_ERROR', 'Request validation failed', details);
  }

  static unauthorized(message = 'Authentication required') {
    return new AppError(401, 'UNAUTHORIZED', message);
  }

  static forbidden(message = 'You do not have permission to do this') {
    return new AppError(403, 'FORBIDDEN', message);
  }

  static notFound(what: string) {
    return new AppError(404, 'NOT_FOUND', `${what} not found`);
  }

  static conflict(message: string, details?: ErrorDetail[], code = 'CONFLICT') {
    return new AppError(409, code, message, details);
  }

  static requestTimeout(message = 'The request did not arrive in time') {
    return new AppError(408, 'REQUEST_TIMEOUT', message);
  }

  static payloadTooLarge(message = 'Request body is too large') {
    return new AppError(413, 'PAYLOAD_TOO_LARGE', message);
  }

  static unsupportedMediaType(message: string) {
    return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', message);
  }

  static tooManyRequests(message: string, retryAfterSeconds: number) {
    const seconds = String(Math.max(1, Math.ceil(retryAfterSeconds)));
    return new AppError(429, 'RATE_LIMITED', message, undefined, { 'Retry-After': seconds });
  }

  static databaseUnavailable() {
    return new AppError(503, 'DATABASE_UNAVAILABLE', 'Database is unavailable, try again shortly', undefined, {
      'Retry-After': '5',
    });
  }
}
