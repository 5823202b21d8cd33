/**
 * A generic protobuf reader over one buffer, the counterpart of writer.ts: fields are checked
 * against a {@link MessageSpec} (expected wire type per field number), unknown fields skipped,
 * and every read bounded by the end of the message it is in.
 */

/** Malformed wire data; decode.ts reports it as ERR_DECODE "… is not a pprof profile: …". */
export class WireError extends Error {}

// Wire types: how a field's value is framed, the low 3 bits of its tag. 1 and 5 (fixed 8 and
// 4 bytes) appear in no pprof field but must be skipped when unknown; 3 and 4 (groups) are
// long deprecated and refused.
export const VARINT = 0;
const I64 = 1;
export const LEN = 2;
const I32 = 5;
/** Expected "wire type" of a repeated scalar field: packed (LEN) or one value per tag (VARINT). */
export const REPEATED = -1;
/** Expected "wire type" of a field number the message does not have: skipped, whatever its type. */
const UNKNOWN = -2;

export interface MessageSpec {
  readonly name: string;
  /** Expected wire type by field number. */
  readonly types: readonly number[];
}

/** A message's spec from its fields' expected wire types ({ 1: VARINT, 2: LEN, ... }). */
export const message = (name: string, fields: Record<number, number>): MessageSpec => {
  const types: number[] = [];
  for (const [field, type] of Object.entries(fields)) types[+field] = type;
  for (let i = 0; i < types.length; i++) types[i] ??= UNKNOWN;
  return { name, types };
};

const TWO_32 = 0x1_0000_0000;
/** Not fatal: invalid UTF-8 in a string becomes U+FFFD rather than an error. */
const utf8 = new TextDecoder();

/**
 * Reads protobuf wire data from one buffer. Every read takes `end`, the end of the innermost
 * message being read, and throws a {@link WireError} rather than read past it: a truncated
 * input, or a length that claims more than its message holds, fails at the first overrun.
 */
export class Reader {
  pos = 0;
  /** Wire type of the field {@link next} returned last (VARINT or LEN for a repeated scalar). */
  wireType = 0;

  constructor(private readonly buf: Uint8Array) {}

  /**
   * The next known field's number, or 0 at the end of the message. Fields the message does not
   * have are skipped; a known field framed with the wrong wire type is refused (as pprof does).
   */
  next(end: number, spec: MessageSpec): number {
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.uint64(end);
      // A tag is (field number << 3) | wire type; field numbers run from 1 to 2^29 - 1.
      if (tag < 8 || tag > 0xffff_ffff)
        throw new WireError(`invalid field number ${Math.floor(tag / 8)} at byte ${at}`);
      const field = tag >>> 3;
      const wireType = tag & 7;
      const want = field < spec.types.length ? spec.types[field] : UNKNOWN;
      if (want === UNKNOWN) {
        this.skip(wireType, end, at);
        continue;
      }
      if (wireType !== want && !(want === REPEATED && (wireType === VARINT || wireType === LEN))) {
        throw new WireError(
          `${spec.name} field ${field} at byte ${at} has wire type ${wireType}, not ${want === REPEATED ? '0 or 2' : want}`,
        );
      }
      this.wireType = wireType;
      return field;
    }
    return 0;
  }

  /** A varint read as uint64; above 2^53 it is rounded to the nearest double. */
  uint64(end: number): number {
    return this.number(end, false);
  }

  /** A varint read as int64: a negative value is its 64-bit two's complement, 10 bytes long. */
  int64(end: number): number {
    return this.number(end, true);
  }

  /** A one-byte varint (most of a profile's) read inline; longer ones by {@link varint}. */
  private number(end: number, signed: boolean): number {
    const pos = this.pos;
    if (pos < end && this.buf[pos] < 0x80) {
      this.pos = pos + 1;
      return this.buf[pos];
    }
    return this.varint(end, signed);
  }

  /**
   * Any varint: 7 bits per byte, least significant first, a byte's top bit set when another
   * follows; 10 bytes at most for 64 bits (bits past the 64th are dropped). JS bit operators
   * work on 32 bits, so the bits gather in two halves that are combined once at the end: the
   * one rounding a 64-bit value needs.
   */
  private varint(end: number, signed: boolean): number {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new WireError(`a varint at byte ${start} runs past the end of its message (byte ${end})`);
      const b = buf[pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= b << 28; // bits 28–31 (the rest shift out)
        hi = (b & 0x7f) >>> 4; // bits 32–34
      } else hi |= (b & 0x7f) << (7 * i - 32); // bits 35–63; the 10th byte's `<< 31` keeps bit 63 only
      if (b < 0x80) {
        this.pos = pos;
        return (signed ? hi | 0 : hi >>> 0) * TWO_32 + (lo >>> 0);
      }
    }
    throw new WireError(`a varint at byte ${start} is longer than 10 bytes`);
  }

  /** Reads a length prefix; returns where the payload that follows ends. */
  len(end: number): number {
    const at = this.pos;
    const n = this.uint64(end);
    if (n > end - this.pos)
      throw new WireError(`a length at byte ${at} claims ${n} bytes, ${end - this.pos} are left in its message`);
    return this.pos + n;
  }

  string(end: number): string {
    const stop = this.len(end);
    const s = utf8.decode(this.buf.subarray(this.pos, stop));
    this.pos = stop;
    return s;
  }

  /** One occurrence of a repeated varint field: a packed run (LEN) or a single value (VARINT). */
  repeated(end: number, out: number[], signed: boolean): void {
    if (this.wireType === VARINT) {
      out.push(signed ? this.int64(end) : this.uint64(end));
      return;
    }
    const stop = this.len(end);
    // Reads are bounded by `stop`, so a varint cut by the end of the run is refused.
    if (signed) while (this.pos < stop) out.push(this.int64(stop));
    else while (this.pos < stop) out.push(this.uint64(stop));
  }

  /** Notes where a submessage's payload lies, [start, end) pairs in `out`, and steps over it. */
  locate(end: number, out: number[]): void {
    const stop = this.len(end);
    out.push(this.pos, stop);
    this.pos = stop;
  }

  /** Steps over the value of a field this reader does not know (its tag at byte `at`). */
  private skip(wireType: number, end: number, at: number): void {
    switch (wireType) {
      case VARINT:
        this.uint64(end);
        return;
      case I64:
      case I32: {
        const n = wireType === I64 ? 8 : 4;
        if (n > end - this.pos)
          throw new WireError(`a ${n}-byte field at byte ${at} runs past the end of its message (byte ${end})`);
        this.pos += n;
        return;
      }
      case LEN:
        this.pos = this.len(end);
        return;
      case 3:
      case 4:
        throw new WireError(`a group (wire type ${wireType}) at byte ${at}; pprof has none`);
      default:
        throw new WireError(`invalid wire type ${wireType} at byte ${at}`);
    }
  }
}
