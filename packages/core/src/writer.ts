/**
 * A protobuf writer for the pprof encoder: every message's size is computed before it is
 * written, so bytes go straight into one growing buffer — no per-message forks, no copies.
 * Numbers are JS numbers (exact up to 2^53); negative int64 values take the 10-byte form.
 */
import { LEN, VARINT } from './reader.js';

const encoder = new TextEncoder();

/** Bytes a varint takes for `v` (negative values are 64-bit two's complement: 10 bytes). */
export function varintSize(v: number): number {
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 4;
  v = Math.floor(v / 0x10000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 0x80);
  }
  return n;
}

/** Size of a varint field (tag + value), 0 when the value is 0 and so omitted (proto3). */
export function fieldSize(field: number, v: number): number {
  return v === 0 ? 0 : varintSize(field << 3) + varintSize(v);
}

/** Size of a length-delimited field whose payload is `len` bytes. */
export function lenFieldSize(field: number, len: number): number {
  return varintSize((field << 3) | LEN) + varintSize(len) + len;
}

/** Payload size of a packed repeated varint field. */
export function packedSize(values: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) n += varintSize(values[i]);
  return n;
}

export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial = 1 << 16) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (v < 0) {
      let big = BigInt.asUintN(64, BigInt(v));
      while (big >= 0x80n) {
        buf[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      buf[this.pos++] = Number(big);
      return;
    }
    while (v > 0x7fffffff) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** A varint field; omitted when 0. */
  field(field: number, v: number): void {
    if (v === 0) return;
    this.varint((field << 3) | VARINT);
    this.varint(v);
  }

  /** The tag and length of a length-delimited field whose payload the caller writes next. */
  header(field: number, len: number): void {
    this.varint((field << 3) | LEN);
    this.varint(len);
  }

  packed(field: number, values: readonly number[], size = packedSize(values)): void {
    if (values.length === 0) return;
    this.header(field, size);
    for (let i = 0; i < values.length; i++) this.varint(values[i]);
  }

  bytes(field: number, data: Uint8Array): void {
    this.header(field, data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, encoder.encode(s));
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
