/**
 * Text of V8's log (`--log-code`): its escapes and script line ends.
 *
 * V8 writes a record per line, fields separated by ',', and escapes the JS strings in them (script
 * names and sources) one code unit at a time: ',' as `\x2C`, '\' as `\\`, newline as `\n`, other
 * non-printable units up to 0xFF as `\xHH`, units above 0xFF as `\uHHHH`. A raw ',' therefore
 * separates fields — except in function debug names, which V8 writes raw (see decodeRawName).
 */

/** Thrown inside the parser only, for text that does not follow the escape rules above. */
export class LogFormatError extends Error {}

/** Decodes a field that V8 wrote from a JS string (code units: Latin-1 `\xHH`, `\uHHHH`). */
export function unescapeString(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  let i = 0;
  while (i < field.length) {
    const slash = field.indexOf('\\', i);
    if (slash < 0) {
      out += field.slice(i);
      break;
    }
    out += field.slice(i, slash);
    const [unit, next] = escapeAt(field, slash);
    out += String.fromCharCode(unit);
    i = next;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a function's debug name as V8 writes it into code-creation names: raw UTF-8 bytes, not
 * escaped (it goes through the log's generic `char*` path on V8 11.3 to 13.6). A name with a
 * backslash may be escaped by another V8 and a name that is not UTF-8 was not written so: both
 * give undefined rather than a wrong name.
 */
export function decodeRawName(raw: string): string | undefined {
  if (raw.includes('\\')) return undefined;
  if (!/[^\x00-\x7f]/.test(raw)) return raw;
  try {
    return utf8.decode(Buffer.from(raw, 'latin1'));
  } catch {
    return undefined;
  }
}

/** The value of `digits` hex digits at `text[at]`. */
function hexAt(text: string, at: number, digits: number): number {
  let v = 0;
  for (let k = at; k < at + digits; k++) {
    const c = text.charCodeAt(k) | 0x20;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) throw new LogFormatError(`bad escape ${JSON.stringify(text.slice(at - 2, at + digits))}`);
    v = v * 16 + d;
  }
  return v;
}

/** The code unit of the escape at `text[i] === '\\'` and the index after it. */
function escapeAt(text: string, i: number): [number, number] {
  const c = text[i + 1];
  if (c === '\\') return [0x5c, i + 2];
  if (c === 'n') return [0x0a, i + 2];
  const len = c === 'x' ? 2 : c === 'u' ? 4 : 0;
  if (!len || i + 2 + len > text.length) throw new LogFormatError(`bad escape ${JSON.stringify(text.slice(i, i + 6))}`);
  return [hexAt(text, i + 2, len), i + 2 + len];
}

/**
 * Line ends of a script source as V8 computes them (String::CalculateLineEnds): the offset, in
 * UTF-16 code units, of every line terminator (`\n`, a `\r` not followed by `\n`, U+2028,
 * U+2029), then the source length. Fed the escaped text in pieces of any size, so a source
 * never has to be held whole.
 */
export class LineEndScanner {
  private readonly ends: number[] = [];
  private units = 0;
  private pendingCr = -1;
  private pendingEscape = '';

  /** Scans the next piece of escaped source text. */
  push(piece: string): void {
    const text = this.pendingEscape ? this.pendingEscape + piece : piece;
    this.pendingEscape = '';
    const n = text.length;
    let i = 0;
    while (i < n) {
      const slash = text.indexOf('\\', i);
      const stop = slash < 0 ? n : slash;
      // Raw characters are printable ASCII: one code unit each, never a terminator.
      if (stop > i) {
        if (this.pendingCr >= 0) this.flushCr(false);
        this.units += stop - i;
      }
      if (slash < 0) return;
      i = slash;
      const kind = text.charCodeAt(i + 1);
      const len = kind === 0x78 ? 4 : kind === 0x75 ? 6 : 2;
      if (i + len > n) {
        this.pendingEscape = text.slice(i);
        return;
      }
      if (kind === 0x6e) this.unit(0x0a);
      else if (kind === 0x5c) this.unit(0x5c);
      else if (len > 2) this.unit(hexAt(text, i + 2, len - 2));
      else throw new LogFormatError(`bad escape ${JSON.stringify(text.slice(i, i + 2))}`);
      i += len;
    }
  }

  /** Ends the source: the line-end table (ascending; the last entry is the source length). */
  finish(): Uint32Array {
    if (this.pendingEscape) throw new LogFormatError('source ends inside an escape');
    this.flushCr(false);
    this.ends.push(this.units);
    return Uint32Array.from(this.ends);
  }

  private unit(u: number): void {
    if (u === 0x0a) {
      // "\r\n" ends the line once, at the '\n'.
      this.flushCr(true);
      this.ends.push(this.units);
    } else {
      this.flushCr(false);
      if (u === 0x0d) this.pendingCr = this.units;
      else if (u === 0x2028 || u === 0x2029) this.ends.push(this.units);
    }
    this.units++;
  }

  private flushCr(beforeLf: boolean): void {
    if (this.pendingCr >= 0 && !beforeLf) this.ends.push(this.pendingCr);
    this.pendingCr = -1;
  }
}

/** 0-based line and column of a script offset, or undefined outside the source. */
export function lineColumnAt(lineEnds: Uint32Array, offset: number): { line: number; column: number } | undefined {
  if (offset < 0 || lineEnds.length === 0 || offset > lineEnds[lineEnds.length - 1]) return undefined;
  let lo = 0;
  let hi = lineEnds.length - 1;
  // First line whose end is at or after the offset.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lineEnds[mid] < offset) lo = mid + 1;
    else hi = mid;
  }
  const lineStart = lo === 0 ? 0 : lineEnds[lo - 1] + 1;
  return { line: lo, column: offset - lineStart };
}
