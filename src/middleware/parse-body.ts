import { isUtf8 } from 'node:buffer';
import busboy from 'busboy';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../utils/app-error';

interface ContentType {
  mime: string;
  hasBoundary: boolean;
}

function contentTypeOf(req: Request): ContentType | undefined {
  const header = req.headers['content-type'];
  if (!header) return undefined;
  const [mime = '', ...params] = header.split(';').map((part) => part.trim());
  return {
    mime: mime.toLowerCase(),
    hasBoundary: params.some((p) => /^boundary=.+/i.test(p)),
  };
}

export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mime);
}

/** Turns an urlencoded body into a flat object; repeated keys become arrays (and then fail validation). */
function formToObject(text: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = result[key];
    if (existing === undefined) result[key] = value;
    else result[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return result;
}

/**
 * body-parser's `verify` hook, run on the raw bytes: a body declared (or defaulted) UTF-8 that is not valid
 * UTF-8 is bad input (400), not text to repair silently with U+FFFD replacement characters.
 */
function requireUtf8(_req: unknown, _res: unknown, buffer: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(buffer)) throw AppError.badRequest('Request body is not valid UTF-8');
}

const loneSurrogate = /\p{Cs}/u;

// Array.isArray narrows `unknown` to `any[]`; this keeps the items unknown.
const isArray = (value: unknown): value is unknown[] => Array.isArray(value);

/**
 * Whether a parsed JSON body holds a key or string with a lone surrogate (`"\ud800"` is valid JSON but no
 * Unicode text): stored, it would silently become U+FFFD. Iterative, as bodies may nest deeply.
 */
function hasLoneSurrogate(body: unknown): boolean {
  const pending: unknown[] = [body];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (loneSurrogate.test(value)) return true;
    } else if (isArray(value)) {
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (loneSurrogate.test(key)) return true;
        pending.push(item);
      }
    }
  }
  return false;
}

const notUnicode = () => AppError.badRequest('Request body holds a string that is not valid Unicode (a lone surrogate)');

function parseJsonText(text: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw AppError.badRequest('Malformed JSON in request body');
  }
  if (hasLoneSurrogate(body)) throw notUnicode();
  return body;
}

function parseMultipart(req: Request, limit: number): Promise<Record<string, string | string[]>> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string | string[]> = {};
    let received = 0;
    let failed = false;
    const fail = (error: AppError) => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume();
      reject(error);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fieldSize: limit, fields: 1000 } });
    } catch {
      reject(AppError.badRequest('Malformed multipart/form-data body'));
      return;
    }
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) fail(AppError.payloadTooLarge());
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(AppError.payloadTooLarge());
      const existing = fields[name];
      if (existing === undefined) fields[name] = value;
      else fields[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
    });
    parser.on('file', (_name, stream) => {
      stream.resume();
      fail(AppError.unsupportedMediaType('File uploads are accepted only by POST /import/customer_data'));
    });
    parser.on('fieldsLimit', () => fail(AppError.payloadTooLarge('Too many form fields')));
    parser.on('error', () => fail(AppError.badRequest('Malformed multipart/form-data body')));
    parser.on('close', () => {
      if (!failed) resolve(fields);
    });
    req.pipe(parser);
  });
}

/**
 * One body parser for every route except the streaming import:
 * - application/json (and +json), or no Content-Type: JSON;
 * - multipart/form-data *without* a boundary, and text/plain: JSON — the original service decoded every body
 *   as JSON whatever its label, and its README's curl examples send JSON labelled multipart/form-data;
 * - application/x-www-form-urlencoded: form fields, or JSON when the text is a JSON object/array (what
 *   `curl -d '{…}'` without a Content-Type sends);
 * - real multipart/form-data: its fields (files are refused);
 * - anything else with a body: 415.
 */
export function parseBody(options: { limit: number }): RequestHandler {
  const json = express.json({ limit: options.limit, type: () => true, verify: requireUtf8 });
  const text = express.text({ limit: options.limit, type: () => true, verify: requireUtf8 });

  const readText = (req: Request, res: Response) =>
    new Promise<string>((resolve, reject) => {
      text(req, res, (error?: unknown) => {
        if (error instanceof Error) reject(error);
        else if (error) reject(AppError.badRequest('Unreadable request body'));
        else resolve(typeof req.body === 'string' ? req.body : '');
      });
    });

  return async function parseRequestBody(req: Request, res: Response, next: NextFunction) {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' || !hasBody(req)) {
      req.body = {};
      return next();
    }
    const type = contentTypeOf(req);
    if (!type || isJsonMime(type.mime) || type.mime === 'text/plain' || (type.mime === 'multipart/form-data' && !type.hasBoundary)) {
      return json(req, res, (error?: unknown) => {
        if (error) return next(error);
        next(hasLoneSurrogate(req.body) ? notUnicode() : undefined);
      });
    }
    if (type.mime === 'application/x-www-form-urlencoded') {
      const body = (await readText(req, res)).trim();
      req.body = body.startsWith('{') || body.startsWith('[') ? parseJsonText(body) : formToObject(body);
      return next();
    }
    if (type.mime === 'multipart/form-data') {
      req.body = await parseMultipart(req, options.limit);
      return next();
    }
    req.resume();
    throw AppError.unsupportedMediaType(`Content-Type ${type.mime} is not supported; send application/json`);
  };
}
