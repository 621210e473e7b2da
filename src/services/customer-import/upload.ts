import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import busboy from 'busboy';
import type { ImportFormat } from '../../models/import-job.model';
import { AppError } from '../../utils/app-error';

const byMime: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'text/plain': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/x-jsonlines': 'ndjson',
};
const byExtension: Record<string, ImportFormat> = { '.csv': 'csv', '.json': 'json', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

export interface Upload {
  stream: Readable;
  format: ImportFormat;
  /** Bytes of the request body read so far. */
  bytes: () => number;
}

function mimeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const supported = 'send text/csv, application/json, application/x-ndjson, or multipart/form-data with a `file` field';

/** The format of an uploaded file part: its extension, then its declared type; octet-stream means CSV. */
function fileFormat(filename: string | undefined, mime: string): ImportFormat {
  const extension = path.extname(filename ?? '').toLowerCase();
  const format = byExtension[extension] ?? byMime[mime];
  if (format) return format;
  if (!extension && (mime === '' || mime === 'application/octet-stream')) return 'csv';
  throw AppError.unsupportedMediaType(`File type ${extension || mime} is not supported; upload a .csv, .json or .ndjson file`);
}

/** Counts bytes flowing through and fails with 413 past the limit, whatever Content-Length said. */
function byteLimit(maxBytes: number): Transform & { bytes: () => number } {
  let bytes = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > maxBytes) callback(AppError.payloadTooLarge(`The file is larger than the ${maxBytes}-byte import limit`));
      else callback(null, chunk);
    },
  });
  return Object.assign(limiter, { bytes: () => bytes });
}

/** Refuses the upload, still draining the body so the answer reaches the client. */
function refuse(body: Readable, error: AppError): never {
  body.resume();
  throw error;
}

/**
 * The uploaded file as a stream, without reading it: a raw body of a supported type, or the `file` part
 * of a multipart body. `body` and `headers` are the request's (its body stream and its headers). Bytes are
 * counted on the way in, and more than `maxBytes` fails the stream with 413 whether or not Content-Length
 * was sent.
 */
export async function openUpload(body: Readable, headers: IncomingHttpHeaders, maxBytes: number): Promise<Upload> {
  const length = Number(headers['content-length']);
  if (Number.isFinite(length) && length > maxBytes)
    refuse(body, AppError.payloadTooLarge(`The file is larger than the ${maxBytes}-byte import limit`));
  const mime = mimeOf(headers['content-type']);
  if (!mime) refuse(body, AppError.unsupportedMediaType(`Content-Type is missing: ${supported}`));
  const limiter = byteLimit(maxBytes);
  body.on('error', (error) => limiter.destroy(error));
  body.on('aborted', () => limiter.destroy(AppError.badRequest('The upload was aborted by the client')));

  if (mime !== 'multipart/form-data') {
    const format = byMime[mime];
    if (!format) refuse(body, AppError.unsupportedMediaType(`Content-Type ${mime} is not supported: ${supported}`));
    body.pipe(limiter);
    return { stream: limiter, format, bytes: limiter.bytes };
  }
  return multipartFile(body, headers, limiter, maxBytes);
}

/** The `file` part of a multipart body, once busboy reaches it; other parts are drained and ignored. */
function multipartFile(
  body: Readable,
  headers: IncomingHttpHeaders,
  limiter: ReturnType<typeof byteLimit>,
  maxBytes: number,
): Promise<Upload> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers, limits: { fileSize: maxBytes, files: 1, fields: 100, fieldSize: 64 * 1024 } });
  } catch {
    refuse(body, AppError.badRequest('Malformed multipart/form-data body'));
  }
  return new Promise<Upload>((resolve, reject) => {
    let found = false;
    parser.on('file', (name, file, info) => {
      if (name !== 'file' || found) {
        file.resume();
        return;
      }
      let format: ImportFormat;
      try {
        format = fileFormat(info.filename, info.mimeType.toLowerCase());
      } catch (error) {
        file.resume();
        body.unpipe(limiter);
        body.resume();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      found = true;
      const out = new PassThrough();
      file.on('limit', () => out.destroy(AppError.payloadTooLarge(`The file is larger than the ${maxBytes}-byte import limit`)));
      file.on('error', (error) => out.destroy(error));
      limiter.on('error', (error) => out.destroy(error));
      file.pipe(out);
      resolve({ stream: out, format, bytes: limiter.bytes });
    });
    parser.on('error', () => {
      if (!found) reject(AppError.badRequest('Malformed multipart/form-data body'));
      else limiter.destroy(AppError.badRequest('Malformed multipart/form-data body'));
    });
    parser.on('close', () => {
      if (!found) reject(AppError.badRequest('The multipart body has no `file` field'));
    });
    limiter.on('error', (error) => {
      if (!found) reject(error);
    });
    body.pipe(limiter).pipe(parser);
  });
}
