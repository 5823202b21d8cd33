/**
 * `perfprofile flame`: one self-contained HTML page (no network) with an icicle graph of a
 * profile. The CLI folds the samples into a call tree (root first) with one value per sample
 * type and per-tier weights, and embeds it as JSON; the viewer (flame-viewer.ts) draws it.
 * Samples labeled `benchmark=<full name>` (every sample of a vitest-perf profile) hang under one
 * node per benchmark, so a merged profile reads as one root per benchmark under `(all)`.
 */
import { ProfileIndex, type Profile } from '@perfprofile/core';
import { VIEWER_CSS, VIEWER_JS } from './flame-viewer.js';

/**
 * A call-tree node: name, file:line, values (one per sample type, self + callees), tier
 * weights, children; `k` marks the node that stands for a benchmark rather than a function.
 */
export interface FlameNode {
  n: string;
  f: string;
  v: number[];
  t: Record<string, number>;
  c: FlameNode[];
  k?: 'benchmark';
  /** Differential pages: the change per op, −1 … +1, that colours the frame, and a tooltip line. */
  d?: number;
  x?: string;
}

export interface FlameData {
  readonly title: string;
  readonly types: readonly string[];
  /** Index into types shown first. */
  readonly initial: number;
  readonly root: FlameNode;
  /** Set on a differential page: colour by change (FlameNode.d) first, with this legend note. */
  readonly diff?: string;
}

/** The label whose value names the benchmark a sample belongs to. */
export const BENCHMARK_LABEL = 'benchmark';

/**
 * The profile's samples folded into a tree rooted at `(all)`. A sample with a `benchmark` label
 * starts under that benchmark's node; one without starts at the root, as before labels existed.
 */
export function flameTree(profile: Profile, title: string): FlameData {
  const index = new ProfileIndex(profile);
  const width = profile.sampleTypes.length;
  const node = (n: string, f: string): FlameNode => ({ n, f, v: new Array(width).fill(0), t: {}, c: [] });
  const root = node('(all)', '');
  const kids = new Map<FlameNode, Map<string, FlameNode>>();
  // Apart from kids: a benchmark's node must never be taken for a function's.
  const benches = new Map<string, FlameNode>();
  const child = (parent: FlameNode, key: string, make: () => FlameNode): FlameNode => {
    let byKey = kids.get(parent);
    if (!byKey) kids.set(parent, (byKey = new Map()));
    let c = byKey.get(key);
    if (!c) {
      c = make();
      byKey.set(key, c);
      parent.c.push(c);
    }
    return c;
  };
  for (const s of profile.samples) {
    let tier = '';
    let bench: string | undefined;
    for (const l of s.labels) {
      if (l.key === 'tier' && l.str) tier = l.str;
      else if (l.key === BENCHMARK_LABEL && l.str !== undefined) bench = l.str;
    }
    const add = (x: FlameNode) => {
      for (let i = 0; i < width; i++) x.v[i] += s.values[i];
      if (tier) x.t[tier] = (x.t[tier] ?? 0) + s.values[0];
    };
    add(root);
    let at = root;
    if (bench !== undefined) {
      let b = benches.get(bench);
      if (!b) {
        b = { ...node(bench, ''), k: 'benchmark' };
        benches.set(bench, b);
        root.c.push(b);
      }
      add((at = b));
    }
    const frames = s.locationIds.flatMap((id) => index.frames(id)).reverse();
    for (const f of frames) {
      const file = f.fn.filename ? `${f.fn.filename}:${f.fn.startLine}` : '';
      add((at = child(at, `${f.fn.name}\u0000${file}`, () => node(f.fn.name, file))));
    }
  }
  const types = profile.sampleTypes.map((t) => `${t.type}/${t.unit}`);
  const def = profile.defaultSampleType
    ? profile.sampleTypes.findIndex((t) => t.type === profile.defaultSampleType)
    : -1;
  return { title, types, initial: def >= 0 ? def : types.length - 1, root };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The page: data as JSON in a script tag (with `<` escaped so no string can end it early). The
 * viewer puts every name on the page with textContent, never as markup.
 */
export function flameHtml(data: FlameData): string {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(data.title)} — perfprofile flame</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${VIEWER_CSS}</style></head>
<body>
<header>
  <strong id="title"></strong>
  <label>sample type <select id="type"></select></label>
  <label>colour <select id="colour">${data.diff === undefined ? '' : '<option value="change">by change per op</option>'}<option value="name">by name</option><option value="tier">by tier</option></select></label>
  <input id="search" type="search" placeholder="search name or file (regex)" spellcheck="false" title="regular expression or plain text, matched against function names and file:line; lower case ignores case">
  <button id="reset" type="button">reset zoom</button>
  <span id="status"></span>
</header>
<div id="chart"></div>
<div id="tip" hidden></div>
<div id="legend"></div>
<script type="application/json" id="data">${json}</script>
<script>${VIEWER_JS}</script>
</body></html>
`;
}
