/**
 * The pprof wire format: {@link encode} turns a {@link Profile} into (gzipped) protobuf bytes
 * with a string table, {@link decode} reads them back. Encoding writes straight from the model
 * with a sizing writer (writer.ts; measured against protobufjs and pprof-format in README);
 * decoding with a reader written for these messages alone (below). Both follow the field
 * numbers of proto/profile.proto, and no protobuf library is loaded at run time: protobufjs,
 * which decoded before, cost every process that imports core (each Vitest worker) ~20–27 ms,
 * and its first decode ~12 ms more to compile a decoder from the .proto.
 */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import type { Label, Line, Location, Mapping, Profile, ProfileFunction, Sample, ValueType } from './model.js';
import { emptyProfile } from './model.js';
import { ProfileError } from './errors.js';
import { ByteWriter, fieldSize, lenFieldSize, packedSize } from './writer.js';

/** Decoders refuse inputs that inflate beyond this (zip bombs); override per call. */
export const DEFAULT_MAX_DECODED_BYTES = 256 * 1024 * 1024;

class StringTable {
  readonly strings: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

function valueTypeSize(v: ValueType, st: StringTable): number {
  return fieldSize(1, st.id(v.type)) + fieldSize(2, st.id(v.unit));
}

function writeValueType(w: ByteWriter, f: number, v: ValueType, st: StringTable): void {
  w.header(f, valueTypeSize(v, st));
  w.field(1, st.id(v.type));
  w.field(2, st.id(v.unit));
}

/**
 * Serializes a profile straight from the model into pprof protobuf (field numbers of
 * proto/profile.proto): sizes are computed before each message is written, repeated scalars
 * are packed, zero fields omitted (proto3). The string table is written last; protobuf field
 * order is free and pprof reads it that way.
 */
export function encodeRaw(p: Profile): Uint8Array {
  const st = new StringTable();
  const w = new ByteWriter(1 << 20);
  for (const t of p.sampleTypes) writeValueType(w, 1, t, st);
  // A sample's labels as [key, str, num, numUnit, size] quintuples, reused for every sample: the
  // sample loop runs once per sample (200k in the bench) and allocates nothing.
  let lf = new Float64Array(5 * 4);
  for (const s of p.samples) {
    const ids = s.locationIds;
    const values = s.values;
    const labels = s.labels;
    const locSize = packedSize(ids);
    const valSize = packedSize(values);
    let size = (ids.length ? lenFieldSize(1, locSize) : 0) + (values.length ? lenFieldSize(2, valSize) : 0);
    if (lf.length < 5 * labels.length) lf = new Float64Array(5 * labels.length);
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      const key = st.id(l.key);
      const str = l.str !== undefined ? st.id(l.str) : 0;
      const num = l.str !== undefined ? 0 : (l.num ?? 0);
      const unit = l.str === undefined && l.numUnit ? st.id(l.numUnit) : 0;
      const labelSize = fieldSize(1, key) + fieldSize(2, str) + fieldSize(3, num) + fieldSize(4, unit);
      const o = 5 * i;
      lf[o] = key;
      lf[o + 1] = str;
      lf[o + 2] = num;
      lf[o + 3] = unit;
      lf[o + 4] = labelSize;
      size += lenFieldSize(3, labelSize);
    }
    w.header(2, size);
    w.packed(1, ids, locSize);
    w.packed(2, values, valSize);
    for (let i = 0; i < labels.length; i++) {
      const o = 5 * i;
      w.header(3, lf[o + 4]);
      w.field(1, lf[o]);
      w.field(2, lf[o + 1]);
      w.field(3, lf[o + 2]);
      w.field(4, lf[o + 3]);
    }
  }
  for (const m of p.mappings) {
    const fields = [m.id, m.memoryStart, m.memoryLimit, m.fileOffset, st.id(m.filename), st.id(m.buildId),
      +m.hasFunctions, +m.hasFilenames, +m.hasLineNumbers, +m.hasInlineFrames];
    w.header(3, fields.reduce((n, v, i) => n + fieldSize(i + 1, v), 0));
    fields.forEach((v, i) => w.field(i + 1, v));
  }
  for (const l of p.locations) {
    let size = fieldSize(1, l.id) + fieldSize(2, l.mappingId) + fieldSize(3, l.address) + fieldSize(5, +l.isFolded);
    for (const x of l.lines) size += lenFieldSize(4, fieldSize(1, x.functionId) + fieldSize(2, x.line) + fieldSize(3, x.column));
    w.header(4, size);
    w.field(1, l.id);
    w.field(2, l.mappingId);
    w.field(3, l.address);
    for (const x of l.lines) {
      w.header(4, fieldSize(1, x.functionId) + fieldSize(2, x.line) + fieldSize(3, x.column));
      w.field(1, x.functionId);
      w.field(2, x.line);
      w.field(3, x.column);
    }
    w.field(5, +l.isFolded);
  }
  for (const f of p.functions) {
    const fields = [f.id, st.id(f.name), st.id(f.systemName), st.id(f.filename), f.startLine];
    w.header(5, fields.reduce((n, v, i) => n + fieldSize(i + 1, v), 0));
    fields.forEach((v, i) => w.field(i + 1, v));
  }
  w.field(7, st.id(p.dropFrames));
  w.field(8, st.id(p.keepFrames));
  w.field(9, p.timeNanos);
  w.field(10, p.durationNanos);
  if (p.periodType) writeValueType(w, 11, p.periodType, st);
  w.field(12, p.period);
  w.packed(13, p.comments.map((c) => st.id(c)));
  w.field(14, st.id(p.defaultSampleType));
  w.field(15, st.id(p.docUrl));
  for (const s of st.strings) w.string(6, s);
  return w.finish();
}

export interface EncodeOptions {
  /** gzip the bytes, as pprof files usually are (default true). */
  readonly gzip?: boolean;
  /**
   * zlib level; 1 by default, as Go's runtime writes its profiles (gzip.BestSpeed). On the
   * bench's 200k-sample profile level 1 took 65 ms and 3.13 MB, level 6 174 ms and 3.04 MB.
   */
  readonly level?: number;
}

/** Serializes a profile to pprof bytes, gzipped unless `gzip: false`. */
export function encode(profile: Profile, options: EncodeOptions = {}): Uint8Array {
  const raw = encodeRaw(profile);
  if (options.gzip === false) return raw;
  return gzipSync(raw, { level: options.level ?? 1 });
}

export interface DecodeOptions {
  /** Refuse inputs whose decompressed size exceeds this many bytes. */
  readonly maxBytes?: number;
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** Gunzips when the bytes start with the gzip magic; enforces the size limit either way. */
export function inflate(bytes: Uint8Array, options: DecodeOptions = {}, what = 'input'): Uint8Array {
  const max = options.maxBytes ?? DEFAULT_MAX_DECODED_BYTES;
  if (!isGzip(bytes)) {
    if (bytes.length > max) throw new ProfileError('ERR_DECODE', `${what} is ${bytes.length} bytes, over the ${max}-byte limit`, 'raise the limit (--max-bytes) if the file is genuine');
    return bytes;
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: max });
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (error.code === 'ERR_BUFFER_TOO_LARGE' || error.code === 'ERR_OUT_OF_RANGE' || /Cannot create a Buffer larger|too large/i.test(error.message)) {
      throw new ProfileError('ERR_DECODE', `${what} inflates beyond the ${max}-byte limit (a gzip bomb, or a huge profile)`, 'raise the limit (--max-bytes) if the file is genuine');
    }
    if (error.code === 'Z_BUF_ERROR' || error.errno === zlibConstants.Z_BUF_ERROR) {
      throw new ProfileError('ERR_DECODE', `${what} is a truncated gzip stream`, 'the file was cut short; write it again');
    }
    throw new ProfileError('ERR_DECODE', `${what} is not valid gzip: ${error.message}`, 'pass a .pb.gz or .pb pprof file');
  }
}

// ---- Decoding ------------------------------------------------------------------------------
//
// A protobuf reader for the messages of proto/profile.proto, written for them alone: one pass
// over the top-level fields reads the scalars and the string table and notes where each
// submessage lies (the string table may come anywhere; ours comes last), a second pass reads
// the submessages straight into the model, resolving string indices as it goes.

/** Malformed wire data; {@link decode} reports it as ERR_DECODE "… is not a pprof profile: …". */
class WireError extends Error {}

// Wire types: how a field's value is framed, the low 3 bits of its tag. 1 and 5 (fixed 8 and
// 4 bytes) appear in no pprof field but must be skipped when unknown; 3 and 4 (groups) are
// long deprecated and refused.
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;
/** Expected "wire type" of a repeated scalar field: packed (LEN) or one value per tag (VARINT). */
const REPEATED = -1;
/** Expected "wire type" of a field number the message does not have: skipped, whatever its type. */
const UNKNOWN = -2;

interface MessageSpec {
  readonly name: string;
  /** Expected wire type by field number. */
  readonly types: readonly number[];
}

const message = (name: string, fields: Record<number, number>): MessageSpec => {
  const types: number[] = [];
  for (const [field, type] of Object.entries(fields)) types[+field] = type;
  for (let i = 0; i < types.length; i++) types[i] ??= UNKNOWN;
  return { name, types };
};

const PROFILE = message('Profile', {
  1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 7: VARINT, 8: VARINT, 9: VARINT, 10: VARINT,
  11: LEN, 12: VARINT, 13: REPEATED, 14: VARINT, 15: VARINT,
});
const VALUE_TYPE = message('ValueType', { 1: VARINT, 2: VARINT });
const SAMPLE = message('Sample', { 1: REPEATED, 2: REPEATED, 3: LEN });
const LABEL = message('Label', { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT });
const MAPPING = message('Mapping', { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT, 5: VARINT, 6: VARINT, 7: VARINT, 8: VARINT, 9: VARINT, 10: VARINT });
const LOCATION = message('Location', { 1: VARINT, 2: VARINT, 3: VARINT, 4: LEN, 5: VARINT });
const LINE = message('Line', { 1: VARINT, 2: VARINT, 3: VARINT });
const FUNCTION = message('Function', { 1: VARINT, 2: VARINT, 3: VARINT, 4: VARINT, 5: VARINT });

const TWO_32 = 0x1_0000_0000;
/** Not fatal: invalid UTF-8 in a string becomes U+FFFD rather than an error. */
const utf8 = new TextDecoder();

/**
 * Reads protobuf wire data from one buffer. Every read takes `end`, the end of the innermost
 * message being read, and throws a {@link WireError} rather than read past it: a truncated
 * input, or a length that claims more than its message holds, fails at the first overrun.
 */
class Reader {
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
      if (tag < 8 || tag > 0xffff_ffff) throw new WireError(`invalid field number ${Math.floor(tag / 8)} at byte ${at}`);
      const field = tag >>> 3;
      const wireType = tag & 7;
      const want = field < spec.types.length ? spec.types[field] : UNKNOWN;
      if (want === UNKNOWN) {
        this.skip(wireType, end, at);
        continue;
      }
      if (wireType !== want && !(want === REPEATED && (wireType === VARINT || wireType === LEN))) {
        throw new WireError(`${spec.name} field ${field} at byte ${at} has wire type ${wireType}, not ${want === REPEATED ? '0 or 2' : want}`);
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
   * one rounding a 64-bit value needs, as protobufjs's `longs: Number` gave.
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
    if (n > end - this.pos) throw new WireError(`a length at byte ${at} claims ${n} bytes, ${end - this.pos} are left in its message`);
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
        if (n > end - this.pos) throw new WireError(`a ${n}-byte field at byte ${at} runs past the end of its message (byte ${end})`);
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

/**
 * Reads pprof bytes (gzipped or not) into a {@link Profile}. Throws a {@link ProfileError} with
 * code ERR_DECODE on truncated, garbage, inconsistent or oversized input.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}, what = 'profile'): Profile {
  const raw = inflate(bytes, options, what);
  try {
    return readProfile(raw, what);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    throw new ProfileError('ERR_DECODE', `${what} is not a pprof profile: ${e.message}`, 'pass a pprof file (.pb.gz) such as perfprofile or go tool pprof write');
  }
}

function readProfile(raw: Uint8Array, what: string): Profile {
  const r = new Reader(raw);
  const end = raw.length;

  // Pass 1: the top level. Scalars are read (the last occurrence wins), submessages located.
  const at = { sampleType: [] as number[], sample: [] as number[], mapping: [] as number[], location: [] as number[], function: [] as number[], periodType: [] as number[] };
  const strings: string[] = [];
  const comments: number[] = [];
  let dropFrames = 0, keepFrames = 0, timeNanos = 0, durationNanos = 0, period = 0, defaultSampleType = 0, docUrl = 0;
  for (let f; (f = r.next(end, PROFILE)) !== 0;) {
    switch (f) {
      case 1: r.locate(end, at.sampleType); break;
      case 2: r.locate(end, at.sample); break;
      case 3: r.locate(end, at.mapping); break;
      case 4: r.locate(end, at.location); break;
      case 5: r.locate(end, at.function); break;
      case 6: strings.push(r.string(end)); break;
      case 7: dropFrames = r.int64(end); break;
      case 8: keepFrames = r.int64(end); break;
      case 9: timeNanos = r.int64(end); break;
      case 10: durationNanos = r.int64(end); break;
      case 11: r.locate(end, at.periodType); break;
      case 12: period = r.int64(end); break;
      case 13: r.repeated(end, comments, true); break;
      case 14: defaultSampleType = r.int64(end); break;
      case 15: docUrl = r.int64(end); break;
    }
  }
  if (strings.length === 0 || strings[0] !== '') {
    throw new ProfileError('ERR_DECODE', `${what} is not a pprof profile: its string table does not start with ""`, 'pass a pprof file (.pb.gz)');
  }
  const str = (n: number, field: string): string => {
    if (!Number.isInteger(n) || n < 0 || n >= strings.length) {
      throw new ProfileError('ERR_DECODE', `${what} is corrupt: ${field} names string ${n} of ${strings.length}`, 'the file is damaged; write it again');
    }
    return strings[n];
  };
  /** Reads the ValueType messages at [start, end) pairs `ranges[k..k+count)` merged into one (protobuf merges repeats of a singular message). */
  const valueType = (ranges: number[], k: number, count: number, field: string): ValueType => {
    let type = 0;
    let unit = 0;
    for (let i = k; i < k + count; i += 2) {
      const stop = ranges[i + 1];
      r.pos = ranges[i];
      for (let f; (f = r.next(stop, VALUE_TYPE)) !== 0;) {
        if (f === 1) type = r.int64(stop);
        else unit = r.int64(stop);
      }
    }
    return { type: str(type, `${field}.type`), unit: str(unit, `${field}.unit`) };
  };

  // Pass 2, in the order the checks need: functions before the locations that name them,
  // locations before the samples.
  const functions: ProfileFunction[] = [];
  for (let k = 0; k < at.function.length; k += 2) {
    const stop = at.function[k + 1];
    r.pos = at.function[k];
    let id = 0, name = 0, systemName = 0, filename = 0, startLine = 0;
    for (let f; (f = r.next(stop, FUNCTION)) !== 0;) {
      switch (f) {
        case 1: id = r.uint64(stop); break;
        case 2: name = r.int64(stop); break;
        case 3: systemName = r.int64(stop); break;
        case 4: filename = r.int64(stop); break;
        case 5: startLine = r.int64(stop); break;
      }
    }
    functions.push({
      id, name: str(name, 'function.name'), systemName: str(systemName, 'function.system_name'),
      filename: str(filename, 'function.filename'), startLine,
    });
  }
  const functionIds = new Set(functions.map((f) => f.id));

  const locations: Location[] = [];
  for (let k = 0; k < at.location.length; k += 2) {
    const stop = at.location[k + 1];
    r.pos = at.location[k];
    let id = 0, mappingId = 0, address = 0, isFolded = false;
    const lines: Line[] = [];
    for (let f; (f = r.next(stop, LOCATION)) !== 0;) {
      switch (f) {
        case 1: id = r.uint64(stop); break;
        case 2: mappingId = r.uint64(stop); break;
        case 3: address = r.uint64(stop); break;
        case 4: {
          const lineStop = r.len(stop);
          let functionId = 0, line = 0, column = 0;
          for (let g; (g = r.next(lineStop, LINE)) !== 0;) {
            if (g === 1) functionId = r.uint64(lineStop);
            else if (g === 2) line = r.int64(lineStop);
            else column = r.int64(lineStop);
          }
          lines.push({ functionId, line, column });
          break;
        }
        case 5: isFolded = r.uint64(stop) !== 0; break;
      }
    }
    for (const x of lines) {
      if (!functionIds.has(x.functionId)) throw new ProfileError('ERR_DECODE', `${what} is corrupt: location ${id} names missing function ${x.functionId}`, 'the file is damaged; write it again');
    }
    locations.push({ id, mappingId, address, isFolded, lines });
  }
  const locationIds = new Set(locations.map((l) => l.id));

  const sampleTypes: ValueType[] = [];
  for (let k = 0; k < at.sampleType.length; k += 2) sampleTypes.push(valueType(at.sampleType, k, 2, `sample_type[${k / 2}]`));

  const samples: Sample[] = [];
  const label: number[] = []; // a sample's labels as [key, str, num, num_unit] runs, resolved once it is checked
  for (let k = 0; k < at.sample.length; k += 2) {
    const stop = at.sample[k + 1];
    r.pos = at.sample[k];
    const ids: number[] = [];
    const values: number[] = [];
    label.length = 0;
    for (let f; (f = r.next(stop, SAMPLE)) !== 0;) {
      switch (f) {
        case 1: r.repeated(stop, ids, false); break;
        case 2: r.repeated(stop, values, true); break;
        case 3: {
          const labelStop = r.len(stop);
          let key = 0, s = 0, n = 0, unit = 0;
          for (let g; (g = r.next(labelStop, LABEL)) !== 0;) {
            if (g === 1) key = r.int64(labelStop);
            else if (g === 2) s = r.int64(labelStop);
            else if (g === 3) n = r.int64(labelStop);
            else unit = r.int64(labelStop);
          }
          label.push(key, s, n, unit);
          break;
        }
      }
    }
    const i = k / 2;
    for (const id of ids) {
      if (!locationIds.has(id)) throw new ProfileError('ERR_DECODE', `${what} is corrupt: sample ${i} names missing location ${id}`, 'the file is damaged; write it again');
    }
    if (values.length !== sampleTypes.length) {
      throw new ProfileError('ERR_DECODE', `${what} is corrupt: sample ${i} has ${values.length} values for ${sampleTypes.length} sample types`, 'the file is damaged; write it again');
    }
    const labels: Label[] = [];
    for (let j = 0; j < label.length; j += 4) {
      const key = str(label[j], 'label.key');
      if (label[j + 1] !== 0) {
        labels.push({ key, str: str(label[j + 1], 'label.str') });
        continue;
      }
      const unit = str(label[j + 3], 'label.num_unit');
      labels.push(unit ? { key, num: label[j + 2], numUnit: unit } : { key, num: label[j + 2] });
    }
    samples.push({ locationIds: ids, values, labels });
  }

  const mappings: Mapping[] = [];
  for (let k = 0; k < at.mapping.length; k += 2) {
    const stop = at.mapping[k + 1];
    r.pos = at.mapping[k];
    // uint64 id, memory_start, memory_limit, file_offset; int64 filename, build_id; 4 bools.
    const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let f; (f = r.next(stop, MAPPING)) !== 0;) v[f] = f === 5 || f === 6 ? r.int64(stop) : r.uint64(stop);
    mappings.push({
      id: v[1], memoryStart: v[2], memoryLimit: v[3], fileOffset: v[4],
      filename: str(v[5], 'mapping.filename'), buildId: str(v[6], 'mapping.build_id'),
      hasFunctions: v[7] !== 0, hasFilenames: v[8] !== 0, hasLineNumbers: v[9] !== 0, hasInlineFrames: v[10] !== 0,
    });
  }

  return {
    ...emptyProfile,
    sampleTypes,
    samples,
    mappings,
    locations,
    functions,
    dropFrames: str(dropFrames, 'drop_frames'),
    keepFrames: str(keepFrames, 'keep_frames'),
    timeNanos,
    durationNanos,
    periodType: at.periodType.length ? valueType(at.periodType, 0, at.periodType.length, 'period_type') : undefined,
    period,
    comments: comments.map((c) => str(c, 'comment')),
    defaultSampleType: str(defaultSampleType, 'default_sample_type'),
    docUrl: str(docUrl, 'doc_url'),
  };
}
