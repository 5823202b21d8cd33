import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as pf from 'pprof-format';
import protobuf from 'protobufjs';
import {
  ProfileBuilder,
  decode,
  emptyProfile,
  encode,
  isProfileError,
  type Profile,
  type ValueType,
} from '../src/index.js';
import { thrown } from './helpers.js';

function sampleProfile(): Profile {
  const b = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1_000_000,
    // eslint-disable-next-line no-loss-of-precision -- a time past 2^53 ns on purpose: encode rounds it
    timeNanos: 1_763_000_000_123_456_789,
    durationNanos: 2_000_000_000,
    comments: ['perfprofile test', 'ünïcødé ✓'],
    defaultSampleType: 'cpu',
    mapping: { filename: 'node' },
  });
  const main = { name: 'main', file: 'src/main.ts', line: 3, startLine: 1 };
  const hot = { name: 'hot', systemName: '*hot', file: 'src/hot.ts', line: 12, startLine: 10 };
  const cold = { name: 'cold', file: 'src/cold.ts', line: 5, startLine: 4 };
  b.addFrames([hot, main], [7, 7_000_000], [{ key: 'tier', str: 'turbofan' }]);
  b.addFrames([cold, main], [3, 3_000_000], [{ key: 'bytes', num: 4096, numUnit: 'bytes' }]);
  b.addFrames([hot, main], [1, 1_000_000], [{ key: 'tier', str: 'turbofan' }]);
  // Negative and > 2^32 int64 values take the long varint forms.
  b.addFrames([cold], [1, 5_000_000_000], [{ key: 'delta', num: -5 }]);
  return b.build();
}

describe('encode/decode', () => {
  it('round-trips the model exactly, gzipped and not', () => {
    const p = sampleProfile();
    expect(p.samples).toHaveLength(3); // identical stack + labels folded
    expect(p.samples[0].values).toEqual([8, 8_000_000]);
    expect(decode(encode(p))).toEqual(p);
    expect(decode(encode(p, { gzip: false }))).toEqual(p);
  });

  it('writes what pprof-format reads: same samples, names and strings', () => {
    const p = sampleProfile();
    const other = pf.Profile.decode(encode(p, { gzip: false }));
    const strings = other.stringTable.strings;
    expect(other.sample.map((s) => s.value.map(Number))).toEqual(p.samples.map((s) => s.values));
    expect(other.function.map((f) => strings[Number(f.name)])).toEqual(['hot', 'main', 'cold']);
    expect(other.function.map((f) => strings[Number(f.systemName)])).toEqual(['*hot', 'main', 'cold']);
    expect(strings[Number(other.periodType!.type)]).toBe('cpu');
    expect(Number(other.period)).toBe(1_000_000);
  });

  it('reads what pprof-format writes', () => {
    const st = new pf.StringTable();
    const fn = new pf.Function({
      id: 1,
      name: st.dedup('work'),
      systemName: st.dedup('work'),
      filename: st.dedup('w.js'),
      startLine: 2,
    });
    const loc = new pf.Location({ id: 1, line: [new pf.Line({ functionId: 1, line: 9 })] });
    const other = new pf.Profile({
      sampleType: [new pf.ValueType({ type: st.dedup('samples'), unit: st.dedup('count') })],
      sample: [
        new pf.Sample({
          locationId: [1],
          value: [42],
          label: [new pf.Label({ key: st.dedup('benchmark'), str: st.dedup('b1') })],
        }),
      ],
      location: [loc],
      function: [fn],
      stringTable: st,
      durationNanos: 5,
      period: 1,
    });
    const p = decode(gzipSync(other.encode()));
    expect(p.samples).toEqual([{ locationIds: [1], values: [42], labels: [{ key: 'benchmark', str: 'b1' }] }]);
    expect(p.functions[0]).toMatchObject({ name: 'work', filename: 'w.js', startLine: 2 });
    expect(p.locations[0].lines[0]).toMatchObject({ functionId: 1, line: 9 });
  });

  const refuses = (bytes: Uint8Array, pattern: RegExp, maxBytes?: number) => {
    const e = thrown(() => decode(bytes, { maxBytes }));
    expect(isProfileError(e)).toBe(true);
    expect(e.message).toMatch(pattern);
  };

  it('refuses truncated, garbage, empty and oversized input with clear errors', () => {
    const good = encode(sampleProfile());
    refuses(good.subarray(0, good.length - 20), /truncated gzip/);
    refuses(encode(sampleProfile(), { gzip: false }).subarray(0, 40), /not a pprof profile|corrupt/);
    refuses(new TextEncoder().encode('this is not a profile at all'), /not a pprof profile|corrupt/);
    refuses(new Uint8Array(0), /string table/);
    refuses(gzipSync(Buffer.alloc(4 * 1024 * 1024)), /inflates beyond the 1048576-byte limit/, 1024 * 1024);
  });

  it('stops a gzip bomb quickly without inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }); // ~250 KB → 256 MB
    const t0 = performance.now();
    refuses(bomb, /inflates beyond/, 16 * 1024 * 1024);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

// ---- The pprof reader (decode.ts) ---------------------------------------------------------

/** Every field of the model set, in more than one shape: multi-line locations, both label kinds, 64-bit values. */
function richProfile(): Profile {
  const fn = (id: number, name: string, file: string, startLine: number) => ({
    id,
    name,
    systemName: `*${name}`,
    filename: file,
    startLine,
  });
  return {
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'alloc', unit: 'bytes' },
    ],
    samples: [
      {
        locationIds: [1, 2],
        values: [1, 5_000_000_000],
        labels: [
          { key: 'tier', str: 'turbofan' },
          { key: 'bytes', num: 4096, numUnit: 'bytes' },
        ],
      },
      {
        locationIds: [3, 2, 1],
        values: [-7, -(2 ** 63)],
        labels: [
          { key: 'delta', num: -5 },
          { key: 'big', num: 2 ** 60 },
        ],
      },
      { locationIds: [2 ** 40 + 3], values: [2 ** 53 + 2, 0], labels: [] },
    ],
    mappings: [
      {
        id: 1,
        memoryStart: 0x5555_0000_0000,
        memoryLimit: 2 ** 64 - 2048,
        fileOffset: 4096,
        filename: 'node',
        buildId: 'abc123',
        hasFunctions: true,
        hasFilenames: true,
        hasLineNumbers: true,
        hasInlineFrames: false,
      },
      {
        id: 2,
        memoryStart: 0,
        memoryLimit: 0,
        fileOffset: 0,
        filename: '[jit]',
        buildId: '',
        hasFunctions: false,
        hasFilenames: false,
        hasLineNumbers: false,
        hasInlineFrames: true,
      },
    ],
    locations: [
      { id: 1, mappingId: 2, address: 0, isFolded: false, lines: [{ functionId: 1, line: 12, column: 5 }] },
      // Inlined: innermost first, the caller last.
      {
        id: 2,
        mappingId: 1,
        address: 2 ** 63,
        isFolded: true,
        lines: [
          { functionId: 2, line: 3, column: 0 },
          { functionId: 3, line: 40, column: 17 },
          { functionId: 1, line: -1, column: 2 ** 33 },
        ],
      },
      { id: 3, mappingId: 0, address: 0x7fff_ffff_ffff, isFolded: false, lines: [] },
      { id: 2 ** 40 + 3, mappingId: 1, address: 1, isFolded: false, lines: [{ functionId: 3, line: 1, column: 1 }] },
    ],
    functions: [fn(1, 'hot', 'src/hot.ts', 10), fn(2, 'ünïcødé ✓', 'src/ü.ts', 0), fn(3, 'main', 'src/main.ts', -3)],
    dropFrames: 'node:internal.*',
    keepFrames: 'src/.*',
    // eslint-disable-next-line no-loss-of-precision -- a time past 2^53 ns on purpose: encode rounds it
    timeNanos: 1_763_000_000_123_456_789,
    durationNanos: 2 ** 33,
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1_000_000,
    comments: ['first', 'second', 'first'],
    defaultSampleType: 'alloc',
    docUrl: 'https://example.com/doc',
  };
}

/** The message-object form protobufjs encodes: strings interned, snake_case, every field. */
function toWire(p: Profile): Record<string, unknown> {
  const strings = [''];
  const index = new Map([['', 0]]);
  const id = (s: string) => {
    let i = index.get(s);
    if (i === undefined) index.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const vt = (v: ValueType) => ({ type: id(v.type), unit: id(v.unit) });
  return {
    sample_type: p.sampleTypes.map(vt),
    sample: p.samples.map((s) => ({
      location_id: s.locationIds,
      value: s.values,
      label: s.labels.map((l) => ({
        key: id(l.key),
        str: l.str === undefined ? 0 : id(l.str),
        num: l.num ?? 0,
        num_unit: l.numUnit ? id(l.numUnit) : 0,
      })),
    })),
    mapping: p.mappings.map((m) => ({
      id: m.id,
      memory_start: m.memoryStart,
      memory_limit: m.memoryLimit,
      file_offset: m.fileOffset,
      filename: id(m.filename),
      build_id: id(m.buildId),
      has_functions: m.hasFunctions,
      has_filenames: m.hasFilenames,
      has_line_numbers: m.hasLineNumbers,
      has_inline_frames: m.hasInlineFrames,
    })),
    location: p.locations.map((l) => ({
      id: l.id,
      mapping_id: l.mappingId,
      address: l.address,
      is_folded: l.isFolded,
      line: l.lines.map((x) => ({ function_id: x.functionId, line: x.line, column: x.column })),
    })),
    function: p.functions.map((f) => ({
      id: f.id,
      name: id(f.name),
      system_name: id(f.systemName),
      filename: id(f.filename),
      start_line: f.startLine,
    })),
    drop_frames: id(p.dropFrames),
    keep_frames: id(p.keepFrames),
    time_nanos: p.timeNanos,
    duration_nanos: p.durationNanos,
    period_type: p.periodType && vt(p.periodType),
    period: p.period,
    comment: p.comments.map(id),
    default_sample_type: id(p.defaultSampleType),
    doc_url: id(p.docUrl),
    string_table: strings,
  };
}

/** protobufjs reflection of the repository's profile.proto, every repeated scalar declared `[packed = <packed>]`. */
function protobufjsProfile(packed: boolean): protobuf.Type {
  const source = readFileSync(new URL('../../../proto/profile.proto', import.meta.url), 'utf8').replace(
    /(repeated u?int64 \w+ = \d+)/g,
    `$1 [packed = ${packed}]`,
  );
  // resolveAll() applies the packed options (an unresolved reflection type writes everything unpacked).
  return protobuf.parse(source, { keepCase: true }).root.resolveAll().lookupType('perftools.profiles.Profile');
}

// Hand-made protobuf, for what no encoder writes. Varints take a bigint for the 64-bit forms.
function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  for (; x >= 0x80n; x >>= 7n) out.push(Number(x & 0x7fn) | 0x80);
  out.push(Number(x));
  return out;
}
const tag = (field: number, wireType: number) => varint(field * 8 + wireType);
const int = (field: number, v: number | bigint) => [...tag(field, 0), ...varint(v)];
const len = (field: number, payload: number[]) => [...tag(field, 2), ...varint(payload.length), ...payload];
const str = (field: number, s: string) => len(field, [...new TextEncoder().encode(s)]);
const STRINGS = ['', 'samples', 'count', 'tier', 'jit', 'node', 'main', 'b', 'bytes'];

/**
 * A small profile written field by field, with `extra` bytes inserted at the top level and in
 * every submessage; its strings come last, as ours do.
 */
function handMade(extra: number[] = []): Uint8Array {
  return Uint8Array.from([
    ...extra,
    ...len(1, [...int(1, 1), ...extra, ...int(2, 2)]),
    ...len(2, [
      ...len(1, [1]),
      ...extra,
      ...len(2, [5]),
      ...len(3, [...int(1, 3), ...extra, ...int(2, 4)]),
      ...len(3, [...int(1, 7), ...int(3, 9), ...extra, ...int(4, 8)]),
    ]),
    ...len(3, [...int(1, 1), ...extra, ...int(5, 5), ...int(7, 1)]),
    ...len(4, [...int(1, 1), ...extra, ...len(4, [...int(1, 1), ...extra, ...int(2, 7)])]),
    ...len(5, [...int(1, 1), ...extra, ...int(2, 6)]),
    ...len(11, [...extra, ...int(1, 1)]),
    ...extra,
    ...STRINGS.flatMap((s) => str(6, s)),
  ]);
}

const HAND_MADE: Profile = {
  ...emptyProfile,
  sampleTypes: [{ type: 'samples', unit: 'count' }],
  samples: [
    {
      locationIds: [1],
      values: [5],
      labels: [
        { key: 'tier', str: 'jit' },
        { key: 'b', num: 9, numUnit: 'bytes' },
      ],
    },
  ],
  mappings: [
    {
      id: 1,
      memoryStart: 0,
      memoryLimit: 0,
      fileOffset: 0,
      filename: 'node',
      buildId: '',
      hasFunctions: true,
      hasFilenames: false,
      hasLineNumbers: false,
      hasInlineFrames: false,
    },
  ],
  locations: [{ id: 1, mappingId: 0, address: 0, isFolded: false, lines: [{ functionId: 1, line: 7, column: 0 }] }],
  functions: [{ id: 1, name: 'main', systemName: '', filename: '', startLine: 0 }],
  periodType: { type: 'samples', unit: '' },
};

/** The error decode throws for `bytes`; fails the test when it throws none. */
const decodeError = (bytes: Uint8Array) => thrown(() => decode(bytes));

describe('decode: the pprof reader', () => {
  it('round-trips a profile with every field set, 64-bit and negative values', () => {
    const p = richProfile();
    expect(decode(encode(p, { gzip: false }))).toEqual(p);
    expect(decode(encode(p))).toEqual(p);
  });

  it('reads what protobufjs writes, repeated scalars packed or not, to the same profile', () => {
    const p = richProfile();
    const packed = protobufjsProfile(true);
    const unpacked = protobufjsProfile(false);
    const packedBytes = packed.encode(packed.fromObject(toWire(p))).finish();
    const unpackedBytes = unpacked.encode(unpacked.fromObject(toWire(p))).finish();
    // The unpacked form repeats the tag per value: sample 1's location ids 3, 2, 1 as 08 03 08 02 08 01.
    expect(Buffer.from(unpackedBytes).includes(Buffer.from([0x08, 3, 0x08, 2, 0x08, 1]))).toBe(true);
    expect(Buffer.from(packedBytes).includes(Buffer.from([0x0a, 3, 3, 2, 1]))).toBe(true);
    expect(decode(unpackedBytes)).toEqual(p);
    expect(decode(packedBytes)).toEqual(p);
  });

  it('concatenates packed runs and single values of one repeated field', () => {
    const bytes = Uint8Array.from([
      ...len(1, [...int(1, 1)]),
      ...len(2, [...len(1, [1, 2]), ...int(1, 3), ...len(1, []), ...len(1, [4]), ...int(2, 9)]),
      ...[1, 2, 3, 4].flatMap((id) => len(4, int(1, id))),
      ...int(13, 1),
      ...len(13, [2, 1]),
      ...['', 'a', 'b'].flatMap((s) => str(6, s)),
    ]);
    const p = decode(bytes);
    expect(p.samples[0].locationIds).toEqual([1, 2, 3, 4]);
    expect(p.samples[0].values).toEqual([9]);
    expect(p.comments).toEqual(['a', 'b', 'a']);
  });

  it('reads 64-bit varints to the nearest double, as protobufjs with longs: Number did', () => {
    const values: [number, bigint][] = [
      [0, 0n],
      [2 ** 53, 2n ** 53n + 1n],
      [2 ** 53 + 4, 2n ** 53n + 3n],
      [2 ** 63, 2n ** 63n - 1n],
      [-1, -1n],
      [-(2 ** 63), -(2n ** 63n)],
      [-(2 ** 53), -(2n ** 53n) - 1n],
      [-5_000_000_000, -5_000_000_000n],
    ];
    const reference = protobufjsProfile(false);
    for (const [expected, v] of values) {
      const bytes = Uint8Array.from([
        ...int(9, v),
        ...int(12, v),
        ...len(4, [...int(1, 1), ...int(3, v)]),
        ...str(6, ''),
      ]);
      const p = decode(bytes);
      const o = reference.toObject(reference.decode(bytes), { longs: Number, defaults: true, arrays: true });
      expect(p.timeNanos, String(v)).toBe(expected); // int64
      expect(p.period).toBe(o.period);
      expect(p.timeNanos).toBe(o.time_nanos);
      // uint64: the same bits read unsigned.
      expect(p.locations[0].address).toBe(Number(BigInt.asUintN(64, v)));
      expect(p.locations[0].address).toBe(o.location[0].address);
    }
  });

  it('reads a hand-made profile, submessages and defaults', () => {
    expect(decode(handMade())).toEqual(HAND_MADE);
    expect(decode(Uint8Array.from(str(6, '')))).toEqual(emptyProfile);
    // An empty submessage is all defaults: present period_type with both strings ''.
    expect(decode(Uint8Array.from([...len(11, []), ...str(6, '')])).periodType).toEqual({ type: '', unit: '' });
  });

  const unknownFields: [string, number[]][] = [
    ['varint (10 bytes)', int(16, -1n)],
    ['fixed64', [...tag(100, 1), 1, 2, 3, 4, 5, 6, 7, 0x80]],
    ['length-delimited', len(1000, [0xff, 0xff, 0x08, 0x0a, 0x80])],
    ['fixed32', [...tag(2 ** 29 - 1, 5), 0xff, 0xff, 0xff, 0x80]],
  ];
  it.each(unknownFields)(
    'skips unknown fields of wire type %s, at the top level and in every submessage',
    (_, extra) => {
      expect(decode(handMade(extra))).toEqual(HAND_MADE);
    },
  );

  it('refuses groups, invalid wire types and field numbers, overlong varints, known fields of the wrong type', () => {
    const bad: [number[], RegExp][] = [
      [[...tag(100, 3), ...tag(100, 4)], /not a pprof profile: a group \(wire type 3\) at byte 0/],
      [tag(100, 4), /a group \(wire type 4\)/],
      [tag(100, 6), /invalid wire type 6 at byte 0/],
      [tag(100, 7), /invalid wire type 7/],
      [[0x00, 0x01], /invalid field number 0 at byte 0/],
      [varint(2n ** 32n), /invalid field number 536870912/],
      [
        [...tag(9, 0), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        /a varint at byte 1 is longer than 10 bytes/,
      ],
      [int(1, 5), /Profile field 1 at byte 0 has wire type 0, not 2/],
      [[...str(6, ''), ...len(9, [1])], /Profile field 9 at byte 2 has wire type 2, not 0/],
      [[...len(2, [...tag(1, 5), 1, 2, 3, 4]), ...str(6, '')], /Sample field 1 at byte 2 has wire type 5, not 0 or 2/],
    ];
    for (const [bytes, message] of bad) {
      const e = decodeError(Uint8Array.from([...bytes, ...str(6, '')]));
      expect(isProfileError(e) && e.code === 'ERR_DECODE', String(e)).toBe(true);
      expect(e.message).toMatch(/^profile is not a pprof profile: /);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a length that runs past the end of the input or of its enclosing message', () => {
    const cases: [number[], RegExp][] = [
      // sample claims 127 bytes, 2 follow
      [[0x12, 0x7f, 0x0a, 0x00], /a length at byte 1 claims 127 bytes, 2 are left in its message/],
      // a label claims 5 bytes of its 3-byte sample; the bytes after the sample do not count
      [
        [...len(2, [0x1a, 0x05, 0x08, 0x01]), ...str(6, ''), ...str(6, 'abc')],
        /a length at byte 3 claims 5 bytes, 2 are left/,
      ],
      // a packed run of 1 byte holding the start of a 2-byte varint
      [
        [...len(2, [0x0a, 0x01, 0x80, 0x01]), ...str(6, '')],
        /a varint at byte 4 runs past the end of its message \(byte 5\)/,
      ],
      // a length longer than 2^53 bytes
      [[0x32, ...varint(2n ** 60n)], /a length at byte 1 claims \d+ bytes, 0 are left/],
      // fixed64 and fixed32 unknown fields cut short
      [[...tag(100, 1), 1, 2, 3], /an? 8-byte field at byte 0 runs past the end/],
      [
        [...len(4, [...tag(100, 5), 1, 2]), ...str(6, '')],
        /a 4-byte field at byte 2 runs past the end of its message \(byte 6\)/,
      ],
    ];
    for (const [bytes, message] of cases) {
      const e = decodeError(Uint8Array.from(bytes));
      expect(isProfileError(e) && e.code === 'ERR_DECODE', String(e)).toBe(true);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses every truncation of a profile with ERR_DECODE, never another error', () => {
    for (const bytes of [
      encode(sampleProfile(), { gzip: false }),
      handMade(unknownFields.flatMap(([, extra]) => extra)),
    ]) {
      expect(() => decode(bytes)).not.toThrow();
      for (let n = 0; n < bytes.length; n++) {
        const e = decodeError(bytes.subarray(0, n));
        expect(isProfileError(e) && e.code === 'ERR_DECODE', `cut at ${n} of ${bytes.length}: ${String(e)}`).toBe(true);
        expect(e.message).toMatch(/^profile is (not a pprof profile|corrupt): /);
      }
    }
  });

  it('keeps the consistency checks and their messages', () => {
    const fields = (sample: number[], fn = int(2, 6), loc = [...int(1, 1), ...len(4, int(1, 1))]) =>
      Uint8Array.from([
        ...len(1, [...int(1, 1), ...int(2, 2)]),
        ...len(2, sample),
        ...len(4, loc),
        ...len(5, [...int(1, 1), ...fn]),
        ...STRINGS.flatMap((s) => str(6, s)),
      ]);
    const ok = [...len(1, [1]), ...len(2, [5])];
    expect(decode(fields(ok)).samples[0]).toEqual({ locationIds: [1], values: [5], labels: [] });
    const cases: [Uint8Array, string][] = [
      [
        Uint8Array.from([...str(6, 'x'), ...str(6, '')]),
        'profile is not a pprof profile: its string table does not start with ""',
      ],
      [Uint8Array.from(len(1, [])), 'profile is not a pprof profile: its string table does not start with ""'],
      [fields(ok, int(2, 99)), 'profile is corrupt: function.name names string 99 of 9'],
      [fields(ok, int(4, -1)), 'profile is corrupt: function.filename names string -1 of 9'],
      [
        fields(ok, undefined, [...int(1, 1), ...len(4, int(1, 2))]),
        'profile is corrupt: location 1 names missing function 2',
      ],
      [fields([...len(1, [1, 2]), ...len(2, [5])]), 'profile is corrupt: sample 0 names missing location 2'],
      [fields([...len(1, [1]), ...len(2, [5, 6])]), 'profile is corrupt: sample 0 has 2 values for 1 sample types'],
      [fields([...ok, ...len(3, int(1, 40))]), 'profile is corrupt: label.key names string 40 of 9'],
      [
        fields([...ok, ...len(3, [...int(1, 3), ...int(3, 1), ...int(4, 9)])]),
        'profile is corrupt: label.num_unit names string 9 of 9',
      ],
      [
        Uint8Array.from([...len(11, int(2, 1)), ...str(6, '')]),
        'profile is corrupt: period_type.unit names string 1 of 1',
      ],
      [Uint8Array.from([...len(13, [1]), ...str(6, '')]), 'profile is corrupt: comment names string 1 of 1'],
    ];
    for (const [bytes, message] of cases) {
      const e = decodeError(bytes);
      expect(isProfileError(e) && e.code === 'ERR_DECODE').toBe(true);
      expect(e.message).toBe(message);
    }
  });
});
