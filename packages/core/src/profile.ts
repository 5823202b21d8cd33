/**
 * SourceResult → Profile: the one place where source frames become pprof functions and
 * locations, stacks are cut to `depth`, paths are made relative, and per-sample labels
 * (`tier`, `vm_state`, and any the caller adds) are attached.
 */
import path from 'node:path';
import { ProfileBuilder } from './builder.js';
import type { Label, Profile, ValueType } from './model.js';
import type { SourceFrame, SourceResult } from './sources/source.js';

export const SAMPLES_TYPE: ValueType = { type: 'samples', unit: 'count' };

export interface BuildOptions {
  /** Max frames per stack; deeper stacks keep their innermost frames plus a truncation frame. */
  readonly depth: number;
  /** Rewrites a stack (leaf first) before it is added, e.g. to cut harness frames or apply source maps. null drops the sample. */
  readonly transform?: (frames: readonly SourceFrame[]) => readonly SourceFrame[] | null;
  /** Files under this directory are written relative to it. */
  readonly pathRoot?: string;
  /** Labels added to every sample (e.g. benchmark=<name>). */
  readonly labels?: readonly Label[];
  readonly comments?: readonly string[];
}

/**
 * A stack cut at `depth`: its innermost `depth - 1` frames and a `(truncated N frames)` frame.
 * Frames are physical (one pprof Location each): the functions inlined into one ride with it.
 */
export function truncate(frames: readonly SourceFrame[], depth: number): readonly SourceFrame[] {
  if (frames.length <= depth) return frames;
  const keep = Math.max(depth - 1, 0);
  const cut = frames.length - keep;
  return [
    ...frames.slice(0, keep),
    { name: `(truncated ${cut} frames)`, file: '', line: 0, startLine: 0, kind: 'truncated' },
  ];
}

function relativeTo(root: string | undefined): (file: string) => string {
  if (!root) return (f) => f;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return (f) => (f.startsWith(prefix) ? f.slice(prefix.length) : f);
}

/** The frame with its file, and its inlined functions' files, made relative. */
function relative(f: SourceFrame, rel: (file: string) => string): SourceFrame {
  const inline = f.inline?.map((g) => (g.file ? { ...g, file: rel(g.file) } : g));
  if (!f.file && !inline) return f;
  return { ...f, ...(f.file ? { file: rel(f.file) } : {}), ...(inline ? { inline } : {}) };
}

/** Builds the pprof model of a source's result: sample types `samples/count` then one per event. */
export function buildProfile(result: SourceResult, options: BuildOptions): Profile {
  const rel = relativeTo(options.pathRoot);
  const builder = new ProfileBuilder({
    sampleTypes: [SAMPLES_TYPE, ...result.valueTypes],
    periodType: result.periodType,
    period: result.period,
    timeNanos: result.startNanos,
    durationNanos: result.durationNanos,
    comments: options.comments ?? [],
    defaultSampleType: result.valueTypes[0]?.type ?? '',
    mapping: { filename: `node-${process.version}` },
  });
  const extra = options.labels ?? [];
  const ids: number[] = [];
  for (const sample of result.samples) {
    const transformed = options.transform ? options.transform(sample.frames) : sample.frames;
    if (!transformed || transformed.length === 0) continue;
    const frames = truncate(transformed, options.depth);
    ids.length = 0;
    for (const f of frames) ids.push(builder.frameId(relative(f, rel)));
    const labels: Label[] = [...extra];
    const leafJs = frames.find((f) => f.kind === 'js');
    if (leafJs?.tier) labels.push({ key: 'tier', str: leafJs.tier });
    if (sample.vmState) labels.push({ key: 'vm_state', str: sample.vmState });
    builder.addSample(ids, [sample.count, ...sample.values], labels);
  }
  return builder.build();
}
