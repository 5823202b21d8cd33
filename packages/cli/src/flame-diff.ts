/**
 * `perfprofile check --flame-diff <dir>`: per regressed benchmark, one self-contained page with
 * base and head in one icicle graph. Each side's runs are folded into one call tree (flame.ts's
 * flameTree) in nanoseconds per op — a run's samples weighted by its time per op over its sample
 * count, averaged over the side's runs — and the two trees are merged frame by frame. Width is
 * head's time per op (or base's, by the sample-type switch), colour the frame's change per op:
 * red slower, blue faster, saturated at a quarter of the benchmark's base time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { measureRun, nsPerOp, type CheckResult, type RunDir } from '@perfprofile/core';
import { flameHtml, flameTree, type FlameData, type FlameNode } from './flame.js';
import { formatChange, formatNs } from './check-report.js';

/** One run of one side: its call tree and what one sample is worth in ns per op. */
export interface WeightedTree {
  readonly root: FlameNode;
  readonly nsPerSample: number;
}

const SIDES = ['base', 'head'] as const;

/** The frames of `from` (one run, weighted by nsPerSample / runs) added into column `side` of `into`. */
function addTree(into: FlameNode, from: FlameNode, side: 0 | 1, weight: number, samplesColumn: number): void {
  into.v[side] += from.v[samplesColumn] * weight;
  for (const c of from.c) {
    let t = into.c.find((x) => x.n === c.n && x.f === c.f && x.k === c.k);
    if (!t) into.c.push((t = { n: c.n, f: c.f, v: [0, 0], t: {}, c: [], ...(c.k ? { k: c.k } : {}) }));
    addTree(t, c, side, weight, samplesColumn);
  }
}

/** Colour and tooltip note of every frame, against the benchmark's base time per op. */
function annotate(n: FlameNode, scale: number): void {
  const [b, h] = n.v;
  const selfOf = (i: number) => n.v[i] - n.c.reduce((a, c) => a + c.v[i], 0);
  n.d = scale > 0 ? Math.max(-1, Math.min(1, (h - b) / scale)) : 0;
  const pct = b > 0 ? ` (${formatChange(h / b - 1)})` : h > 0 ? ' (new)' : '';
  n.x = `per op: ${formatNs(b)} → ${formatNs(h)}${pct}; self ${formatNs(selfOf(0))} → ${formatNs(selfOf(1))}`;
  for (const c of n.c) annotate(c, scale);
}

/**
 * The differential tree of one benchmark: `base` and `head` are each side's runs, as weighted
 * trees of flameTree (columns: `samplesColumn` counts samples). Column 0 is base's ns per op,
 * column 1 head's.
 */
export function flameDiffData(
  title: string,
  base: readonly WeightedTree[],
  head: readonly WeightedTree[],
  samplesColumn: number,
): FlameData {
  const root: FlameNode = { n: '(all)', f: '', v: [0, 0], t: {}, c: [] };
  [base, head].forEach((runs, side) => {
    for (const r of runs) addTree(root, r.root, side as 0 | 1, r.nsPerSample / runs.length, samplesColumn);
  });
  // Saturate at a quarter of the base: a frame that added that much is as red as it gets.
  annotate(root, root.v[0] / 4);
  const change = root.v[0] > 0 ? formatChange(root.v[1] / root.v[0] - 1) : '';
  return {
    title,
    types: SIDES.map((s) => `${s}/ns`),
    initial: 1,
    root,
    diff: `base ${formatNs(root.v[0])} → head ${formatNs(root.v[1])} per op ${change}; ${base.length} base and ${head.length} head run${head.length === 1 ? '' : 's'}`,
  };
}

/** A safe file name for a benchmark id (ids are slugs already; this guards against hand-made indexes). */
const fileFor = (id: string) => `${id.replace(/[^\w.-]+/g, '_').slice(0, 180)}.html`;

/** Writes `<dir>/<id>.html` per regressed benchmark; returns the files by benchmark id. */
export function writeFlameDiffs(
  result: CheckResult,
  base: readonly RunDir[],
  head: readonly RunDir[],
  dir: string,
): Map<string, string> {
  const out = new Map<string, string>();
  const failed = result.benchmarks.filter((b) => b.regressions.length);
  if (!failed.length) return out;
  mkdirSync(dir, { recursive: true });
  for (const b of failed) {
    let column = 0;
    const trees = (runs: readonly RunDir[]) =>
      runs.flatMap((run) => {
        const entry = run.benchmarks.find((x) => x.id === b.id && x.status !== 'failed');
        if (!entry) return [];
        const m = measureRun(run, entry);
        const profile = run.load(entry);
        column = Math.max(
          0,
          profile.sampleTypes.findIndex((t) => t.type === 'samples'),
        );
        return [
          {
            root: flameTree(profile, b.fullName).root,
            nsPerSample: nsPerOp(m, result.limits.source) / Math.max(1, m.samples),
          },
        ];
      });
    const data = flameDiffData(`${b.fullName} — base vs head`, trees(base), trees(head), column);
    const file = path.join(dir, fileFor(b.id));
    writeFileSync(file, flameHtml(data));
    out.set(b.id, file);
  }
  return out;
}
