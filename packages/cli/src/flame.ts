/**
 * `perfprofile flame`: one self-contained HTML page (no network) with an icicle graph of a
 * profile. The CLI folds the samples into a call tree (root first) with one value per sample
 * type and per-tier weights, and embeds it as JSON; the viewer (flame-viewer.ts) draws it.
 */
import { ProfileIndex, type Profile } from '@perfprofile/core';
import { VIEWER_CSS, VIEWER_JS } from './flame-viewer.js';

/** A call-tree node: name, file:line, values (one per sample type), tier weights, children. */
export interface FlameNode {
  n: string;
  f: string;
  v: number[];
  t: Record<string, number>;
  c: FlameNode[];
}

export interface FlameData {
  readonly title: string;
  readonly types: readonly string[];
  /** Index into types shown first. */
  readonly initial: number;
  readonly root: FlameNode;
}

/** The profile's samples folded into a tree rooted at `(all)`. */
export function flameTree(profile: Profile, title: string): FlameData {
  const index = new ProfileIndex(profile);
  const width = profile.sampleTypes.length;
  const root: FlameNode = { n: '(all)', f: '', v: new Array(width).fill(0), t: {}, c: [] };
  const kids = new Map<FlameNode, Map<string, FlameNode>>();
  for (const s of profile.samples) {
    const tier = s.labels.find((l) => l.key === 'tier')?.str ?? '';
    const frames = s.locationIds.flatMap((id) => index.frames(id)).reverse();
    let node = root;
    const add = (x: FlameNode) => {
      for (let i = 0; i < width; i++) x.v[i] += s.values[i];
      if (tier) x.t[tier] = (x.t[tier] ?? 0) + s.values[0];
    };
    add(root);
    for (const f of frames) {
      const file = f.fn.filename ? `${f.fn.filename}:${f.fn.startLine}` : '';
      const key = `${f.fn.name}\u0000${file}`;
      let byKey = kids.get(node);
      if (!byKey) kids.set(node, (byKey = new Map()));
      let child = byKey.get(key);
      if (!child) {
        child = { n: f.fn.name, f: file, v: new Array(width).fill(0), t: {}, c: [] };
        byKey.set(key, child);
        node.c.push(child);
      }
      add(child);
      node = child;
    }
  }
  const types = profile.sampleTypes.map((t) => `${t.type}/${t.unit}`);
  const def = profile.defaultSampleType ? profile.sampleTypes.findIndex((t) => t.type === profile.defaultSampleType) : -1;
  return { title, types, initial: def >= 0 ? def : types.length - 1, root };
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The page: data as JSON in a script tag (with `<` escaped so no string can end it early). */
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
  <label>colour <select id="colour"><option value="name">by name</option><option value="tier">by tier</option></select></label>
  <input id="search" type="search" placeholder="search (regex)" spellcheck="false">
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
