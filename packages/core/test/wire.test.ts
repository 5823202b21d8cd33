import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as pf from 'pprof-format';
import { ProfileBuilder, decode, encode, isProfileError, type Profile } from '../src/index.js';

function sampleProfile(): Profile {
  const b = new ProfileBuilder({
    sampleTypes: [{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1_000_000,
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
    const fn = new pf.Function({ id: 1, name: st.dedup('work'), systemName: st.dedup('work'), filename: st.dedup('w.js'), startLine: 2 });
    const loc = new pf.Location({ id: 1, line: [new pf.Line({ functionId: 1, line: 9 })] });
    const other = new pf.Profile({
      sampleType: [new pf.ValueType({ type: st.dedup('samples'), unit: st.dedup('count') })],
      sample: [new pf.Sample({ locationId: [1], value: [42], label: [new pf.Label({ key: st.dedup('benchmark'), str: st.dedup('b1') })] })],
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
    try {
      decode(bytes, { maxBytes });
    } catch (e) {
      expect(isProfileError(e)).toBe(true);
      expect((e as Error).message).toMatch(pattern);
      return;
    }
    throw new Error('decode accepted bad input');
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
