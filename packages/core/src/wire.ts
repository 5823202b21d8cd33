/**
 * The pprof wire format: {@link encode} turns a {@link Profile} into (gzipped) protobuf bytes
 * with a string table, {@link decode} reads them back. Encoding writes straight from the model
 * with a sizing writer (writer.ts; measured against protobufjs and pprof-format in README);
 * decoding uses the decoder protobufjs compiles from proto/profile.proto at first use.
 */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { Label, Location, Mapping, Profile, ProfileFunction, Sample, ValueType } from './model.js';
import { emptyProfile } from './model.js';
import { ProfileError } from './errors.js';
import { ByteWriter, fieldSize, lenFieldSize, packedSize } from './writer.js';

/** Decoders refuse inputs that inflate beyond this (zip bombs); override per call. */
export const DEFAULT_MAX_DECODED_BYTES = 256 * 1024 * 1024;

let profileType: protobuf.Type | undefined;

/** The compiled `perftools.profiles.Profile` message type. */
export function profileMessage(): protobuf.Type {
  if (!profileType) {
    const source = readFileSync(new URL('../proto/profile.proto', import.meta.url), 'utf8');
    profileType = protobuf.parse(source, { keepCase: true }).root.lookupType('perftools.profiles.Profile');
  }
  return profileType;
}

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

/** One label's interned fields: [key, str, num, numUnit]. */
function labelFields(l: Label, st: StringTable): [number, number, number, number] {
  return l.str !== undefined ? [st.id(l.key), st.id(l.str), 0, 0] : [st.id(l.key), 0, l.num ?? 0, l.numUnit ? st.id(l.numUnit) : 0];
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
  const lf: [number, number, number, number][] = [];
  for (const s of p.samples) {
    const locSize = packedSize(s.locationIds);
    const valSize = packedSize(s.values);
    let size = (s.locationIds.length ? lenFieldSize(1, locSize) : 0) + (s.values.length ? lenFieldSize(2, valSize) : 0);
    lf.length = 0;
    for (const l of s.labels) {
      const f = labelFields(l, st);
      lf.push(f);
      size += lenFieldSize(3, fieldSize(1, f[0]) + fieldSize(2, f[1]) + fieldSize(3, f[2]) + fieldSize(4, f[3]));
    }
    w.header(2, size);
    w.packed(1, s.locationIds, locSize);
    w.packed(2, s.values, valSize);
    for (const f of lf) {
      w.header(3, fieldSize(1, f[0]) + fieldSize(2, f[1]) + fieldSize(3, f[2]) + fieldSize(4, f[3]));
      w.field(1, f[0]);
      w.field(2, f[1]);
      w.field(3, f[2]);
      w.field(4, f[3]);
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
  /** zlib level; 6 by default, 1 trades ~15% size for ~2× speed. */
  readonly level?: number;
}

/** Serializes a profile to pprof bytes, gzipped unless `gzip: false`. */
export function encode(profile: Profile, options: EncodeOptions = {}): Uint8Array {
  const raw = encodeRaw(profile);
  if (options.gzip === false) return raw;
  return gzipSync(raw, { level: options.level ?? 6 });
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

const num = (v: unknown): number => (typeof v === 'number' ? v : v == null ? 0 : Number(v as bigint));

/**
 * Reads pprof bytes (gzipped or not) into a {@link Profile}. Throws a {@link ProfileError} with
 * code ERR_DECODE on truncated, garbage, inconsistent or oversized input.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}, what = 'profile'): Profile {
  const raw = inflate(bytes, options, what);
  const type = profileMessage();
  let obj: Record<string, any>;
  try {
    obj = type.toObject(type.decode(raw), { longs: Number, defaults: true, arrays: true });
  } catch (e) {
    throw new ProfileError('ERR_DECODE', `${what} is not a pprof profile: ${(e as Error).message}`, 'pass a pprof file (.pb.gz) such as perfprofile or go tool pprof write');
  }
  const strings: string[] = obj.string_table;
  if (strings.length === 0 || strings[0] !== '') {
    throw new ProfileError('ERR_DECODE', `${what} is not a pprof profile: its string table does not start with ""`, 'pass a pprof file (.pb.gz)');
  }
  const str = (i: unknown, field: string): string => {
    const n = num(i);
    if (!Number.isInteger(n) || n < 0 || n >= strings.length) {
      throw new ProfileError('ERR_DECODE', `${what} is corrupt: ${field} names string ${n} of ${strings.length}`, 'the file is damaged; write it again');
    }
    return strings[n];
  };
  const vt = (v: any, field: string): ValueType => ({ type: str(v.type, `${field}.type`), unit: str(v.unit, `${field}.unit`) });
  const functions: ProfileFunction[] = obj.function.map((f: any) => ({
    id: num(f.id), name: str(f.name, 'function.name'), systemName: str(f.system_name, 'function.system_name'),
    filename: str(f.filename, 'function.filename'), startLine: num(f.start_line),
  }));
  const functionIds = new Set(functions.map((f) => f.id));
  const locations: Location[] = obj.location.map((l: any) => ({
    id: num(l.id), mappingId: num(l.mapping_id), address: num(l.address), isFolded: !!l.is_folded,
    lines: l.line.map((x: any) => {
      const functionId = num(x.function_id);
      if (!functionIds.has(functionId)) throw new ProfileError('ERR_DECODE', `${what} is corrupt: location ${num(l.id)} names missing function ${functionId}`, 'the file is damaged; write it again');
      return { functionId, line: num(x.line), column: num(x.column) };
    }),
  }));
  const locationIds = new Set(locations.map((l) => l.id));
  const sampleTypes: ValueType[] = obj.sample_type.map((v: any, i: number) => vt(v, `sample_type[${i}]`));
  const samples: Sample[] = obj.sample.map((s: any, i: number) => {
    const ids: number[] = s.location_id.map(num);
    for (const id of ids) {
      if (!locationIds.has(id)) throw new ProfileError('ERR_DECODE', `${what} is corrupt: sample ${i} names missing location ${id}`, 'the file is damaged; write it again');
    }
    if (s.value.length !== sampleTypes.length) {
      throw new ProfileError('ERR_DECODE', `${what} is corrupt: sample ${i} has ${s.value.length} values for ${sampleTypes.length} sample types`, 'the file is damaged; write it again');
    }
    return {
      locationIds: ids,
      values: s.value.map(num),
      labels: s.label.map((l: any): Label => {
        const key = str(l.key, 'label.key');
        const strIndex = num(l.str);
        if (strIndex !== 0) return { key, str: str(strIndex, 'label.str') };
        const unit = str(l.num_unit, 'label.num_unit');
        return unit ? { key, num: num(l.num), numUnit: unit } : { key, num: num(l.num) };
      }),
    };
  });
  const mappings: Mapping[] = obj.mapping.map((m: any) => ({
    id: num(m.id), memoryStart: num(m.memory_start), memoryLimit: num(m.memory_limit), fileOffset: num(m.file_offset),
    filename: str(m.filename, 'mapping.filename'), buildId: str(m.build_id, 'mapping.build_id'),
    hasFunctions: !!m.has_functions, hasFilenames: !!m.has_filenames, hasLineNumbers: !!m.has_line_numbers, hasInlineFrames: !!m.has_inline_frames,
  }));
  return {
    ...emptyProfile,
    sampleTypes,
    samples,
    mappings,
    locations,
    functions,
    dropFrames: str(obj.drop_frames, 'drop_frames'),
    keepFrames: str(obj.keep_frames, 'keep_frames'),
    timeNanos: num(obj.time_nanos),
    durationNanos: num(obj.duration_nanos),
    periodType: obj.period_type ? vt(obj.period_type, 'period_type') : undefined,
    period: num(obj.period),
    comments: obj.comment.map((c: unknown) => str(c, 'comment')),
    defaultSampleType: str(obj.default_sample_type, 'default_sample_type'),
    docUrl: str(obj.doc_url, 'doc_url'),
  };
}
