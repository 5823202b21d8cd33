/**
 * Lines of frames without a position after source mapping: Sparkplug code (V8 logs no
 * positions for it) and event=v8 callers are at their function's first line, and must stay at
 * the first line of its source, not at whatever the generated line's first column maps to.
 */
import { describe, expect, it } from 'vitest';
import type { SourceFrame } from '@perfprofile/core';
import { benchmarkTransform } from '../src/harness.js';
import { SourceMapper } from '../src/sourcemaps.js';

// Generated line 1: column 0 → source line 1, column 20 → source line 4 (`bench(` on line 1,
// the callback `() => {` reflowed onto the same generated line, from source line 4).
const mapper = new SourceMapper(() => ({ version: 3, sources: ['x.ts'], mappings: 'AAAA,oBAGA' }));
const transform = benchmarkTransform(() => false, mapper);
const frame = (extra: Partial<SourceFrame>): SourceFrame => ({
  name: 'cb',
  file: '/p/x.js',
  line: 1,
  startLine: 1,
  kind: 'js',
  ...extra,
});

describe('function-level frames through source maps', () => {
  it('a Sparkplug frame (code name with the start column, no position) stays at its first source line', () => {
    const [out] = transform([frame({ systemName: 'JS:^cb /p/x.js:1:21', tier: 'sparkplug' })]);
    expect(out).toMatchObject({ line: 4, startLine: 4 });
  });

  it('a sampled position keeps its own mapped line', () => {
    const [out] = transform([frame({ systemName: 'JS:*cb /p/x.js:1:21', column: 5 })]);
    expect(out).toMatchObject({ line: 1, startLine: 4 });
  });
});
