/**
 * The harness in a benchmark's stacks: recognizes it, cuts it, measures what is left of it.
 *
 * Harness is Vitest, tinybench, this package and the profiler. The stack transform cuts it below
 * the benchmark function, folds samples that are wholly harness into one `(harness)` frame and
 * maps file/line through the source maps Vite produced; {@link harnessShare} is that frame's share.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Profile, SourceFrame } from '@perfprofile/core';
import type { FrameNamer } from './names.js';
import type { SourceMapper } from './sourcemaps.js';

/** The name of the frame that stands for samples wholly in harness code. */
export const HARNESS_FRAME = '(harness)';

const HARNESS_PATTERNS = [
  /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?(?:tinybench|vitest|@vitest[\\/][^\\/]+|vite)[\\/]/,
];

function ownDirs(): string[] {
  const dirs = [path.dirname(fileURLToPath(import.meta.url))];
  try {
    // The profiler's own frames (start/stop) are harness too.
    const core = path.dirname(fileURLToPath(import.meta.resolve('@perfprofile/core')));
    dirs.push(core);
  } catch {
    // import.meta.resolve may be unavailable under some loaders; the package dir still counts.
  }
  return dirs.map((d) => (d.endsWith(path.sep) ? d : d + path.sep));
}

/** True for frames of Vitest, tinybench, Vite's module runner, this package or the profiler. */
export function harnessMatcher(extraDirs: readonly string[] = ownDirs()): (frame: SourceFrame) => boolean {
  return (frame) => {
    const f = frame.file;
    if (!f) return false;
    if (HARNESS_PATTERNS.some((re) => re.test(f))) return true;
    return extraDirs.some((d) => f.startsWith(d));
  };
}

const harnessFrame: SourceFrame = { name: HARNESS_FRAME, file: '', line: 0, startLine: 0, kind: 'program' };

const isNodeInternal = (f: SourceFrame) => f.file.startsWith('node:') || f.kind === 'native';

/**
 * Builds the stack transform for one benchmark. Frames are leaf first, and a frame's inlined
 * functions count as calls below it: everything from the first harness call rootwards is cut,
 * leaving the benchmark function as the root, even when tinybench's loop inlined it. A sample
 * whose leaf is harness becomes `(harness)`. Node internals left at the root (the microtask
 * runner that resumes an async benchmark) are cut too, unless nothing else is left. `namer`
 * names the callback at the root and Vite's export getters; then lines are source-mapped,
 * inlined functions' too.
 */
export function benchmarkTransform(
  isHarness: (f: SourceFrame) => boolean,
  mapper?: SourceMapper,
  namer?: FrameNamer,
): (frames: readonly SourceFrame[]) => readonly SourceFrame[] {
  return (frames) => {
    // The stack as calls, leaf first; owner[i]: the frame whose code ran calls[i].
    const calls: SourceFrame[] = [];
    const owner: number[] = [];
    frames.forEach((f, i) => {
      for (const g of f.inline ?? []) {
        calls.push(g);
        owner.push(i);
      }
      calls.push(f.inline ? withoutInline(f) : f);
      owner.push(i);
    });
    const cut = calls.findIndex(isHarness);
    if (cut === 0) return [harnessFrame];
    let kept = cut < 0 ? calls.length : cut;
    while (kept > 1 && isNodeInternal(calls[kept - 1])) kept--;
    if (kept === 1 && cut > 0 && isNodeInternal(calls[0])) return [harnessFrame];
    const final = (j: number) => {
      const f = namer ? namer.name(calls[j], j === kept - 1) : calls[j];
      if (!mapper) return f;
      const mapped = mapper.map(f, namer?.startColumn(f));
      // A frame without a position (Sparkplug code, event=v8 callers) is at its function's first
      // line: mapped there too, not at the generated line's first column (often the line above).
      return f.line === f.startLine && !f.column ? { ...mapped, line: mapped.startLine } : mapped;
    };
    // Calls back into frames: each run of one owner is a frame, its outermost call the frame's
    // function (an inlined one when the cut fell inside the owner's chain), the rest inlined.
    const out: SourceFrame[] = [];
    for (let start = 0, i = 0; i < kept; i++) {
      if (i + 1 < kept && owner[i + 1] === owner[i]) continue;
      const own = frames[owner[i]];
      let outer = final(i);
      if (own.tier && !outer.tier) outer = { ...outer, tier: own.tier };
      const inline = [];
      for (let j = start; j < i; j++) inline.push(final(j));
      out.push(inline.length ? { ...outer, inline } : outer);
      start = i + 1;
    }
    return out;
  };
}

function withoutInline(f: SourceFrame): SourceFrame {
  const { inline: _, ...rest } = f;
  return rest;
}

/** Share (%) of the first value column's weight whose leaf is the `(harness)` frame. */
export function harnessShare(profile: Profile): number {
  const fnByLoc = new Map<number, string>();
  const names = new Map(profile.functions.map((f) => [f.id, f.name]));
  for (const l of profile.locations) fnByLoc.set(l.id, names.get(l.lines[0]?.functionId) ?? '');
  let total = 0;
  let harness = 0;
  for (const s of profile.samples) {
    total += s.values[0];
    if (fnByLoc.get(s.locationIds[0]) === HARNESS_FRAME) harness += s.values[0];
  }
  return total ? Math.round((harness / total) * 10000) / 100 : 0;
}
