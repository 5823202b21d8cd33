/**
 * The fuzz corpus (seeds plus every input the fuzzer found worth keeping, and the inputs of
 * bugs it found) replayed through the same checks `npm run fuzz` applies, on every test run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as core from '../src/index.js';
// @ts-expect-error plain .mjs module without types
import { TARGETS } from '../fuzz/targets.mjs';

const CORPUS = fileURLToPath(new URL('./fuzz-corpus', import.meta.url));
type Check = (core: unknown) => (input: Buffer) => void;

describe.each(Object.keys(TARGETS))('fuzz corpus: %s', (target) => {
  const files = readdirSync(path.join(CORPUS, target)).sort();
  it('has seeds', () => expect(files.length).toBeGreaterThan(0));
  it.each(files)('%s', (file) => {
    const check = (TARGETS[target] as { check: Check }).check(core);
    expect(() => check(readFileSync(path.join(CORPUS, target, file)))).not.toThrow();
  });
});
