import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encode, loadProfile, ProfileBuilder, toCollapsed, toCpuProfile, type Profile } from '../src/index.js';
import { errorOf } from './helpers.js';

function sample(): Profile {
  const b = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1e6,
  });
  b.addFrames(
    [
      { name: 'leaf', file: '/src/a.ts', line: 2, startLine: 1 },
      { name: 'main', file: '/src/a.ts', line: 9, startLine: 8 },
    ],
    [3, 3e6],
  );
  b.addFrames([{ name: 'main', file: '/src/a.ts', line: 9, startLine: 8 }], [1, 1e6]);
  return b.build();
}

const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-input-'));
function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('loadProfile', () => {
  it('detects the format by content, whatever the file is called', () => {
    const p = sample();
    const gz = encode(p);
    expect(loadProfile(file('a.txt', gz))).toEqual(p);
    expect(loadProfile(file('raw.bin', encode(p, { gzip: false })))).toEqual(p);
    const chrome = loadProfile(file('b.pb.gz', '  \n' + JSON.stringify(toCpuProfile(p))));
    expect(chrome.comments).toEqual(['converted from .cpuprofile']);
    expect(toCollapsed(chrome)).toBe(toCollapsed(p));
    const collapsed = loadProfile(file('c.cpuprofile', toCollapsed(p)));
    expect(collapsed.sampleTypes).toEqual([{ type: 'samples', unit: 'count' }]);
    expect(toCollapsed(collapsed)).toBe('main 1\nmain;leaf 3\n');
  });

  it('says what is wrong with a file it cannot read', () => {
    expect(errorOf(() => loadProfile(path.join(dir, 'nope')))).toBe(
      `ERR_INPUT: cannot read ${path.join(dir, 'nope')} (ENOENT)`,
    );
    expect(errorOf(() => loadProfile(dir))).toBe(`ERR_INPUT: cannot read ${dir} (EISDIR)`);
    expect(errorOf(() => loadProfile(file('empty', '')))).toMatch(/^ERR_DECODE: .*empty is empty$/);
    expect(errorOf(() => loadProfile(file('half.json', '{"nodes": [')))).toMatch(
      /^ERR_DECODE: .*half\.json starts like JSON but does not parse: /,
    );
    expect(errorOf(() => loadProfile(file('other.json', '{"traceEvents": []}')))).toMatch(
      /^ERR_DECODE: .*other\.json is JSON but not a \.cpuprofile \(no nodes\/samples\)$/,
    );
    expect(errorOf(() => loadProfile(file('text', 'hello world\n')))).toMatch(/^ERR_DECODE: /);
    expect(errorOf(() => loadProfile(file('big.pb.gz', encode(sample())), { maxBytes: 10 }))).toMatch(
      /^ERR_DECODE: .*big\.pb\.gz is \d+ bytes, over the 10-byte limit$/,
    );
    expect(
      errorOf(() => loadProfile(file('bomb.pb.gz', gzipSync(Buffer.alloc(1 << 20))), { maxBytes: 1 << 16 })),
    ).toMatch(/^ERR_DECODE: .*inflates beyond the 65536-byte limit/);
  });
});
