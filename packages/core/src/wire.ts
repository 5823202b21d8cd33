/**
 * The pprof wire format: {@link encode} turns a {@link Profile} into (gzipped) protobuf bytes
 * with a string table, {@link decode} reads them back. protobufjs compiles its encoder and
 * decoder from proto/profile.proto at first use.
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

/** The protobuf-shaped object for a profile: strings replaced by string-table indices. */
export function toWire(p: Profile): Record<string, unknown> {
  const st = new StringTable();
  const vt = (v: ValueType) => ({ type: st.id(v.type), unit: st.id(v.unit) });
  const label = (l: Label) =>
    l.str !== undefined ? { key: st.id(l.key), str: st.id(l.str) } : { key: st.id(l.key), num: l.num ?? 0, num_unit: l.numUnit ? st.id(l.numUnit) : 0 };
  const msg = {
    sample_type: p.sampleTypes.map(vt),
    sample: p.samples.map((s) => ({ location_id: s.locationIds, value: s.values, label: s.labels.map(label) })),
    mapping: p.mappings.map((m) => ({
      id: m.id, memory_start: m.memoryStart, memory_limit: m.memoryLimit, file_offset: m.fileOffset,
      filename: st.id(m.filename), build_id: st.id(m.buildId), has_functions: m.hasFunctions,
      has_filenames: m.hasFilenames, has_line_numbers: m.hasLineNumbers, has_inline_frames: m.hasInlineFrames,
    })),
    location: p.locations.map((l) => ({
      id: l.id, mapping_id: l.mappingId, address: l.address, is_folded: l.isFolded,
      line: l.lines.map((x) => ({ function_id: x.functionId, line: x.line, column: x.column })),
    })),
    function: p.functions.map((f) => ({
      id: f.id, name: st.id(f.name), system_name: st.id(f.systemName), filename: st.id(f.filename), start_line: f.startLine,
    })),
    drop_frames: st.id(p.dropFrames),
    keep_frames: st.id(p.keepFrames),
    time_nanos: p.timeNanos,
    duration_nanos: p.durationNanos,
    period_type: p.periodType ? vt(p.periodType) : undefined,
    period: p.period,
    comment: p.comments.map((c) => st.id(c)),
    default_sample_type: st.id(p.defaultSampleType),
    doc_url: st.id(p.docUrl),
    string_table: [] as string[],
  };
  msg.string_table = st.strings;
  return msg;
}

export interface EncodeOptions {
  /** gzip the bytes, as pprof files usually are (default true). */
  readonly gzip?: boolean;
  /** zlib level; 6 by default, 1 trades ~15% size for ~2× speed. */
  readonly level?: number;
}

/** Serializes a profile to pprof bytes, gzipped unless `gzip: false`. */
export function encode(profile: Profile, options: EncodeOptions = {}): Uint8Array {
  const type = profileMessage();
  const raw = type.encode(type.fromObject(toWire(profile))).finish();
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
