/**
 * The pprof encoder: a {@link Profile} to protobuf bytes (field numbers of proto/profile.proto),
 * gzipped by default. Written straight from the model with the sizing writer (writer.ts); the
 * string table is built on the way.
 */
import { gzipSync } from 'node:zlib';
import type { Profile, ValueType } from './model.js';
import { ByteWriter, fieldSize, lenFieldSize, packedSize } from './writer.js';

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
    const fields = [
      m.id,
      m.memoryStart,
      m.memoryLimit,
      m.fileOffset,
      st.id(m.filename),
      st.id(m.buildId),
      +m.hasFunctions,
      +m.hasFilenames,
      +m.hasLineNumbers,
      +m.hasInlineFrames,
    ];
    w.header(
      3,
      fields.reduce((n, v, i) => n + fieldSize(i + 1, v), 0),
    );
    fields.forEach((v, i) => w.field(i + 1, v));
  }
  for (const l of p.locations) {
    let size = fieldSize(1, l.id) + fieldSize(2, l.mappingId) + fieldSize(3, l.address) + fieldSize(5, +l.isFolded);
    for (const x of l.lines)
      size += lenFieldSize(4, fieldSize(1, x.functionId) + fieldSize(2, x.line) + fieldSize(3, x.column));
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
    w.header(
      5,
      fields.reduce((n, v, i) => n + fieldSize(i + 1, v), 0),
    );
    fields.forEach((v, i) => w.field(i + 1, v));
  }
  w.field(7, st.id(p.dropFrames));
  w.field(8, st.id(p.keepFrames));
  w.field(9, p.timeNanos);
  w.field(10, p.durationNanos);
  if (p.periodType) writeValueType(w, 11, p.periodType, st);
  w.field(12, p.period);
  w.packed(
    13,
    p.comments.map((c) => st.id(c)),
  );
  w.field(14, st.id(p.defaultSampleType));
  w.field(15, st.id(p.docUrl));
  for (const s of st.strings) w.string(6, s);
  return w.finish();
}

export interface EncodeOptions {
  /** gzip the bytes, as pprof files usually are (default true). */
  readonly gzip?: boolean;
  /**
   * zlib level; 1 by default, as Go's runtime writes its profiles (gzip.BestSpeed): much
   * faster than 6 for slightly more bytes (figures in docs/PERFORMANCE.md).
   */
  readonly level?: number;
}

/** Serializes a profile to pprof bytes, gzipped unless `gzip: false`. */
export function encode(profile: Profile, options: EncodeOptions = {}): Uint8Array {
  const raw = encodeRaw(profile);
  if (options.gzip === false) return raw;
  return gzipSync(raw, { level: options.level ?? 1 });
}
