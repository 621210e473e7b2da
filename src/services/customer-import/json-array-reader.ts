import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { errorMessage, malformed, MAX_ROW_BYTES, type SourceRow } from './source-row';

const NEWLINE = 10;
const QUOTE = 34;
const COMMA = 44;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

/** Where the scanner is in the array: before `[`, between elements, inside one, or after `]`. */
type ScanState = 'start' | 'between' | 'element' | 'end';

/**
 * What the character just read does to the element being scanned: nothing yet, ends it (a closing brace,
 * bracket or quote belongs to it), or shows it ended just before (the delimiter after a number, `true`...).
 */
type ElementStep = 'open' | 'ends-with' | 'ended-before';

/**
 * The JSON array scanner: it tracks strings and nesting depth across chunks and hands each top-level
 * element's text to JSON.parse, so only one row's text is ever held.
 */
class JsonArrayScanner {
  private state: ScanState = 'start';
  private expectValue = true; // after '[' or ','
  private depth = 0;
  private inString = false;
  private escaped = false;
  private primitive = false;
  private parts: string[] = [];
  private partsLength = 0;
  private line = 1;
  private elementLine = 1;
  private row = 0;

  /** Yields each element that ends in this chunk of text, keeping the text of one still open. */
  *scan(text: string): Generator<SourceRow<unknown>> {
    let start = 0; // where the current element's text begins in this chunk
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c === NEWLINE) this.line += 1;
      if (this.state !== 'element') {
        if (this.stepOutside(c)) start = i;
        continue;
      }
      const step = this.stepInside(c);
      if (step === 'open') continue;
      yield this.finishElement(text.slice(start, step === 'ends-with' ? i + 1 : i));
      if (step === 'ended-before') {
        i -= 1; // the delimiter is read again, between elements
        if (c === NEWLINE) this.line -= 1;
      }
    }
    if (this.state === 'element') this.keep(text.slice(start));
  }

  /** Checks the end of the file: after the closing `]`, nothing but whitespace. */
  finish(tail: string): void {
    if (tail.trim()) throw this.fail('incomplete UTF-8 or text after the array');
    if (this.state === 'start') throw this.fail('expected an array of objects');
    if (this.state !== 'end') throw this.fail('unexpected end of file: the array is not closed');
  }

  /** A character outside any element: the brackets, commas and whitespace. Says whether an element begins. */
  private stepOutside(c: number): boolean {
    if (isWhitespace(c)) return false;
    if (this.state === 'start') {
      if (c !== OPEN_BRACKET) throw this.fail('expected an array of objects');
      this.state = 'between';
      this.expectValue = true;
      return false;
    }
    if (this.state === 'end') throw this.fail('unexpected text after the array');
    if (c === CLOSE_BRACKET) {
      if (this.expectValue && this.row > 0) throw this.fail('trailing comma');
      this.state = 'end';
      return false;
    }
    if (c === COMMA) {
      if (this.expectValue) throw this.fail('unexpected comma');
      this.expectValue = true;
      return false;
    }
    if (!this.expectValue) throw this.fail('expected a comma between rows');
    this.beginElement(c);
    return true;
  }

  private beginElement(c: number): void {
    this.expectValue = false;
    this.row += 1;
    this.elementLine = this.line;
    this.state = 'element';
    this.depth = 0;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
    else if (c === QUOTE) this.inString = true;
    else this.primitive = true;
  }

  /** A character inside an element: follows strings, escapes and nesting. */
  private stepInside(c: number): ElementStep {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === BACKSLASH) this.escaped = true;
      else if (c === QUOTE) {
        this.inString = false;
        if (this.depth === 0) return 'ends-with';
      }
      return 'open';
    }
    if (this.primitive) return c === COMMA || c === CLOSE_BRACKET || isWhitespace(c) ? 'ended-before' : 'open';
    if (c === QUOTE) this.inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth += 1;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      this.depth -= 1;
      if (this.depth === 0) return 'ends-with';
    }
    return 'open';
  }

  private finishElement(lastPiece: string): SourceRow<unknown> {
    this.parts.push(lastPiece);
    let values: unknown;
    try {
      values = JSON.parse(this.parts.join(''));
    } catch (error) {
      throw this.fail(errorMessage(error));
    }
    this.parts = [];
    this.partsLength = 0;
    this.primitive = false;
    this.state = 'between';
    return { row: this.row, line: this.elementLine, values };
  }

  /** Keeps the start of an element that continues in the next chunk. */
  private keep(piece: string): void {
    this.parts.push(piece);
    this.partsLength += piece.length;
    if (this.partsLength > MAX_ROW_BYTES) throw this.fail('row larger than 1 MB');
  }

  private fail(message: string) {
    const where =
      this.state === 'start' ? `line ${this.line}` : `row ${this.state === 'element' ? this.row : this.row + 1} (line ${this.line})`;
    return malformed('JSON', where, message);
  }
}

/** A JSON array read element by element (see JsonArrayScanner): one row at a time, whatever the file's size. */
export async function* jsonArrayRows(source: Readable): AsyncGenerator<SourceRow<unknown>> {
  const decoder = new StringDecoder('utf8');
  const scanner = new JsonArrayScanner();
  let first = true;
  const chunks: AsyncIterable<Buffer> = source;
  for await (const chunk of chunks) {
    let text = decoder.write(chunk);
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = text.length === 0;
    }
    for (const row of scanner.scan(text)) yield row;
  }
  scanner.finish(decoder.end());
}
