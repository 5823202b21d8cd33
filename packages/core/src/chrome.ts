/**
 * Chrome's `.cpuprofile` (what `node --cpu-prof` writes and DevTools / VS Code open): a call
 * tree of nodes, a sample list naming leaf nodes, and one time delta (µs) per sample. We write
 * one from a profile's sample counts, read one back, and check the invariants a real one holds.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { countColumn, selectSamples, type AnalysisOptions } from './analysis.js';
import { ProfileBuilder } from './builder.js';
import { ProfileError } from './errors.js';
import { ProfileIndex, type Profile } from './model.js';

export interface ChromeCallFrame {
  readonly functionName: string;
  readonly scriptId: string;
  readonly url: string;
  /** 0-based, -1 when unknown. */
  readonly lineNumber: number;
  readonly columnNumber: number;
}

export interface ChromeCpuProfileNode {
  readonly id: number;
  readonly callFrame: ChromeCallFrame;
  hitCount: number;
  children?: number[];
}

export interface ChromeCpuProfile {
  readonly nodes: ChromeCpuProfileNode[];
  /** Microseconds, on the same clock as the deltas. */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

function urlOf(file: string): string {
  if (!file) return '';
  if (/^[a-z][a-z0-9+.-]*:/i.test(file)) return file;
  return path.isAbsolute(file) ? pathToFileURL(file).href : file;
}

/**
 * A `.cpuprofile` whose samples are the profile's `samples` column (one entry per count),
 * spaced by the period (clock events) or evenly over the duration.
 */
export function toCpuProfile(profile: Profile, options: AnalysisOptions = {}): ChromeCpuProfile {
  const column = countColumn(profile, options.sampleIndex);
  const index = new ProfileIndex(profile);
  const root: ChromeCpuProfileNode = {
    id: 1,
    callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
    hitCount: 0,
    children: [],
  };
  const nodes = [root];
  const childOf = new Map<string, ChromeCpuProfileNode>();
  const scripts = new Map<string, string>();
  const scriptId = (url: string) => {
    if (!url) return '0';
    let id = scripts.get(url);
    if (!id) scripts.set(url, (id = String(scripts.size + 1)));
    return id;
  };
  const leaves: { node: ChromeCpuProfileNode; count: number }[] = [];
  let total = 0;
  for (const s of selectSamples(profile, options, index)) {
    const count = Math.round(s.values[column]);
    if (count <= 0) continue;
    let node = root;
    const frames = s.locationIds.flatMap((id) => index.frames(id)).reverse();
    for (const f of frames) {
      const url = urlOf(f.fn.filename);
      const key = `${node.id}\u0000${f.fn.name}\u0000${url}\u0000${f.fn.startLine}`;
      let child = childOf.get(key);
      if (!child) {
        child = {
          id: nodes.length + 1,
          callFrame: {
            functionName: f.fn.name,
            scriptId: scriptId(url),
            url,
            lineNumber: f.fn.startLine - 1,
            columnNumber: f.fn.startLine > 0 ? 0 : -1,
          },
          hitCount: 0,
          children: [],
        };
        nodes.push(child);
        node.children!.push(child.id);
        childOf.set(key, child);
      }
      node = child;
    }
    node.hitCount += count;
    leaves.push({ node, count });
    total += count;
  }
  const clock = profile.periodType?.unit === 'nanoseconds' && profile.period > 0;
  const stepUs = clock ? profile.period / 1000 : total > 0 ? profile.durationNanos / 1000 / total : 0;
  const startTime = Math.round(profile.timeNanos / 1000);
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  // Chrome draws samples in order; interleave stacks so a flame chart is not one block per stack.
  const queue = leaves.map((l) => ({ ...l }));
  let elapsed = 0;
  while (samples.length < total) {
    for (const l of queue) {
      if (l.count === 0) continue;
      l.count--;
      samples.push(l.node.id);
      const t = Math.round(samples.length * stepUs);
      timeDeltas.push(t - elapsed);
      elapsed = t;
    }
  }
  for (const n of nodes) if (n.children!.length === 0) delete n.children;
  return { nodes, startTime, endTime: startTime + elapsed, samples, timeDeltas };
}

/** Every invariant of a `.cpuprofile` that DevTools relies on; empty when it holds them all. */
export function validateCpuProfile(data: unknown): string[] {
  const problems: string[] = [];
  const p = data as Partial<ChromeCpuProfile>;
  if (!p || typeof p !== 'object') return ['not an object'];
  if (!Array.isArray(p.nodes) || p.nodes.length === 0) return ['nodes: missing or empty'];
  if (!Array.isArray(p.samples)) problems.push('samples: missing');
  if (!Array.isArray(p.timeDeltas)) problems.push('timeDeltas: missing');
  if (!Number.isFinite(p.startTime) || !Number.isFinite(p.endTime)) problems.push('startTime/endTime: not numbers');
  else if (p.endTime! < p.startTime!) problems.push(`endTime ${p.endTime} is before startTime ${p.startTime}`);
  if (p.nodes.some((n) => !n || typeof n !== 'object')) return ['nodes: an entry is not an object'];
  if (
    p.nodes.some(
      (n) => n.children !== undefined && (!Array.isArray(n.children) || n.children.some((c) => !Number.isInteger(c))),
    )
  )
    return ['nodes: a children list is not a list of node ids'];
  if (Array.isArray(p.samples) && p.samples.some((x) => !Number.isInteger(x)))
    return ['samples: an entry is not a node id'];
  const ids = new Set<number>();
  const parents = new Map<number, number>();
  for (const n of p.nodes) {
    if (!Number.isInteger(n.id) || n.id <= 0) problems.push(`node id ${n.id} is not a positive integer`);
    if (ids.has(n.id)) problems.push(`node id ${n.id} is not unique`);
    ids.add(n.id);
    const cf = n.callFrame;
    if (
      !cf ||
      typeof cf.functionName !== 'string' ||
      typeof cf.url !== 'string' ||
      typeof cf.scriptId !== 'string' ||
      !Number.isInteger(cf.lineNumber) ||
      !Number.isInteger(cf.columnNumber)
    ) {
      problems.push(`node ${n.id}: callFrame lacks functionName/scriptId/url/lineNumber/columnNumber`);
    }
    if (!Number.isInteger(n.hitCount) || n.hitCount < 0)
      problems.push(`node ${n.id}: hitCount ${n.hitCount} is not a count`);
  }
  for (const n of p.nodes) {
    for (const c of n.children ?? []) {
      if (!ids.has(c)) problems.push(`node ${n.id} names child ${c}, which does not exist`);
      if (parents.has(c)) problems.push(`node ${c} has two parents (${parents.get(c)} and ${n.id})`);
      parents.set(c, n.id);
    }
  }
  const roots = p.nodes.filter((n) => !parents.has(n.id));
  if (roots.length !== 1) problems.push(`${roots.length} root nodes (expected exactly one)`);
  else {
    // One parent each and one root: a tree exactly when every node is reachable (no cycles).
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const seen = new Set<number>([roots[0].id]);
    const queue = [roots[0].id];
    while (queue.length) {
      for (const c of byId.get(queue.pop()!)?.children ?? []) {
        if (!seen.has(c) && byId.has(c)) {
          seen.add(c);
          queue.push(c);
        }
      }
    }
    if (seen.size !== ids.size)
      problems.push(`${ids.size - seen.size} nodes are not reachable from the root (a cycle)`);
  }
  if (Array.isArray(p.samples) && Array.isArray(p.timeDeltas)) {
    if (p.samples.length !== p.timeDeltas.length)
      problems.push(`${p.samples.length} samples but ${p.timeDeltas.length} time deltas`);
    const missing = p.samples.find((s) => !ids.has(s));
    if (missing !== undefined) problems.push(`a sample names node ${missing}, which does not exist`);
    if (p.timeDeltas.some((d) => !Number.isFinite(d))) problems.push('a time delta is not a number');
    const span = p.timeDeltas.reduce((a, d) => a + d, 0);
    if (Number.isFinite(p.startTime) && Number.isFinite(p.endTime) && p.startTime! + span > p.endTime! + 1)
      problems.push(`samples run to ${p.startTime! + span}, past endTime ${p.endTime}`);
    // hitCount is not checked against the samples: V8's own files differ by a sample or two.
  }
  return problems;
}

/** True when parsed JSON has the shape of a `.cpuprofile`. */
export function looksCpuProfile(data: unknown): data is ChromeCpuProfile {
  const p = data as Partial<ChromeCpuProfile> | null;
  return !!p && typeof p === 'object' && Array.isArray(p.nodes) && Array.isArray(p.samples);
}

/** A profile (samples/count, cpu/nanoseconds) from a `.cpuprofile`; refuses a broken one. */
export function fromCpuProfile(data: ChromeCpuProfile, what = 'input'): Profile {
  const problems = validateCpuProfile(data);
  if (problems.length)
    throw new ProfileError(
      'ERR_DECODE',
      `${what} is not a valid .cpuprofile: ${problems[0]}`,
      'pass a file written by node --cpu-prof, DevTools or perfprofile convert',
    );
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of data.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const n = data.samples.length;
  const spanNs = (data.endTime - data.startTime) * 1000;
  const period = n > 0 ? Math.round(spanNs / n) : 0;
  const builder = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period,
    timeNanos: data.startTime * 1000,
    durationNanos: spanNs,
    defaultSampleType: 'cpu',
    mapping: { filename: 'cpuprofile' },
    comments: ['converted from .cpuprofile'],
  });
  const stacks = new Map<number, { name: string; file: string; line: number; startLine: number }[]>();
  for (let i = 0; i < n; i++) {
    const leaf = data.samples[i];
    let frames = stacks.get(leaf);
    if (!frames) {
      frames = [];
      for (let id: number | undefined = leaf; id !== undefined && parent.has(id); id = parent.get(id)) {
        const cf = byId.get(id)!.callFrame;
        let file = cf.url;
        if (file.startsWith('file://')) file = new URL(file).pathname;
        const line = cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0;
        frames.push({ name: cf.functionName || '(anonymous)', file, line, startLine: line });
      }
      stacks.set(leaf, frames);
    }
    if (frames.length)
      builder.addFrames(frames, [1, Math.max(0, Math.round((data.timeDeltas[i + 1] ?? period / 1000) * 1000))]);
  }
  return builder.build();
}
