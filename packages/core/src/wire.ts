/**
 * The pprof wire format: {@link encode} turns a {@link Profile} into (gzipped) protobuf bytes
 * with a string table, {@link decode} reads them back. Encoding writes straight from the model
 * with protobufjs's Writer (9× faster than its reflection encoder here; see README); decoding
 * uses the decoder protobufjs compiles from proto/profile.proto at first use.
 */
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import type { Label, Location, Mapping, Profile, ProfileFunction, Sample, ValueType } from './model.js';
import { emptyProfile } from './model.js';
import { ProfileError } from './errors.js';

/** Decoders refuse inputs that inflate beyond this (zip bombs); override per call. */
export const DEFAULT_MAX_DECODED_BYTES = 512 * 1024 * 1024;

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

// Field numbers of proto/profile.proto, and protobuf wire types.
const VARINT = 0;
const LEN = 2;
const tag = (field: number, wire: number) => (field << 3) | wire;

/** Writes a non-negative or negative int64 given as a number; small values take the fast path. */
function varint(w: protobuf.Writer, v: number): protobuf.Writer {
  return v >= 0 && v <= 0xffffffff ? w.uint32(v) : w.int64(v);
}

function field(w: protobuf.Writer, f: number, v: number): void {
  if (v !== 0) varint(w.uint32(tag(f, VARINT)), v);
}

function packed(w: protobuf.Writer, f: number, values: readonly number[]): void {
  if (values.length === 0) return;
  w.uint32(tag(f, LEN)).fork();
  for (const v of values) varint(w, v);
  w.ldelim();
}

function valueType(w: protobuf.Writer, f: number, v: ValueType, st: StringTable): void {
  w.uint32(tag(f, LEN)).fork();
  field(w, 1, st.id(v.type));
  field(w, 2, st.id(v.unit));
  w.ldelim();
}

/**
 * Serializes a profile straight from the model with protobufjs's Writer: no intermediate
 * message objects, repeated scalars packed, zero fields omitted (proto3). Strings are
 * interned into the string table as they are met; the table is written last (field order is
 * free in protobuf).
 */
export function encodeRaw(p: Profile): Uint8Array {
  const st = new StringTable();
  const w = protobuf.Writer.create();
  for (const t of p.sampleTypes) valueType(w, 1, t, st);
  for (const s of p.samples) {
    w.uint32(tag(2, LEN)).fork();
    packed(w, 1, s.locationIds);
    packed(w, 2, s.values);
    for (const l of s.labels) {
      w.uint32(tag(3, LEN)).fork();
      field(w, 1, st.id(l.key));
      if (l.str !== undefined) field(w, 2, st.id(l.str));
      else {
        field(w, 3, l.num ?? 0);
        if (l.numUnit) field(w, 4, st.id(l.numUnit));
      }
      w.ldelim();
    }
    w.ldelim();
  }
  for (const m of p.mappings) {
    w.uint32(tag(3, LEN)).fork();
    field(w, 1, m.id);
    field(w, 2, m.memoryStart);
    field(w, 3, m.memoryLimit);
    field(w, 4, m.fileOffset);
    field(w, 5, st.id(m.filename));
    field(w, 6, st.id(m.buildId));
    field(w, 7, +m.hasFunctions);
    field(w, 8, +m.hasFilenames);
    field(w, 9, +m.hasLineNumbers);
    field(w, 10, +m.hasInlineFrames);
    w.ldelim();
  }
  for (const l of p.locations) {
    w.uint32(tag(4, LEN)).fork();
    field(w, 1, l.id);
    field(w, 2, l.mappingId);
    field(w, 3, l.address);
    for (const line of l.lines) {
      w.uint32(tag(4, LEN)).fork();
      field(w, 1, line.functionId);
      field(w, 2, line.line);
      field(w, 3, line.column);
      w.ldelim();
    }
    field(w, 5, +l.isFolded);
    w.ldelim();
  }
  for (const f of p.functions) {
    w.uint32(tag(5, LEN)).fork();
    field(w, 1, f.id);
    field(w, 2, st.id(f.name));
    field(w, 3, st.id(f.systemName));
    field(w, 4, st.id(f.filename));
    field(w, 5, f.startLine);
    w.ldelim();
  }
  field(w, 7, st.id(p.dropFrames));
  field(w, 8, st.id(p.keepFrames));
  field(w, 9, p.timeNanos);
  field(w, 10, p.durationNanos);
  if (p.periodType) valueType(w, 11, p.periodType, st);
  field(w, 12, p.period);
  packed(w, 13, p.comments.map((c) => st.id(c)));
  field(w, 14, st.id(p.defaultSampleType));
  field(w, 15, st.id(p.docUrl));
  for (const s of st.strings) w.uint32(tag(6, LEN)).string(s);
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
