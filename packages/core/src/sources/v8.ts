/**
 * The `v8` source: V8's own sampler through node:inspector. Portable (any OS, any thread with an
 * isolate) and wall-clock; it cannot name tiers and caps near 6–8k samples/s. The inspector's
 * `Session.post` is synchronous for the in-process session, so start/stop are too.
 */
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import { lookupEvent } from '../events.js';
import type { SampleSource, SourceFrame, SourceResult, SourceSample, SourceSettings } from './source.js';
import { post } from '../inspector.js';
import { inspectLineOwners, type LineOwners } from './v8-lines.js';

/** The subset of Chrome's Profiler.Profile that we read. */
export interface InspectorProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; scriptId?: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
    positionTicks?: { line: number; ticks: number }[];
  }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A script URL as a path: file:// URLs become paths, others stay as they are. */
export function urlToFile(url: string): string {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}

const SPECIAL: Record<string, { kind: SourceFrame['kind']; vmState: string }> = {
  '(garbage collector)': { kind: 'gc', vmState: 'GC' },
  '(program)': { kind: 'program', vmState: 'OTHER' },
  '(idle)': { kind: 'idle', vmState: 'IDLE' },
};

/**
 * Turns an inspector profile into source samples, leaf first. Each sample's leaf line comes
 * from the node's positionTicks (V8 counts ticks per line, so the totals per line are exact);
 * callers carry their function's start line, since V8 does not record call sites. V8 files
 * the lines of a function inlined at the sampled pc under the caller: with `owners`, a line
 * the caller cannot be shown to own goes to the inlined function when only one could own it,
 * else the frame stays at its function's first line; without, lines are V8's as they are.
 */
export function fromInspectorProfile(
  profile: InspectorProfile,
  intervalNs: number,
  owners?: LineOwners,
): { samples: SourceSample[]; startNanos: number; durationNanos: number } {
  const parent = new Map<number, number>();
  const byId = new Map<number, InspectorProfile['nodes'][number]>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const frameOf = (id: number, line?: number): SourceFrame | undefined => {
    const n = byId.get(id)!;
    const cf = n.callFrame;
    if (cf.functionName === '(root)') return undefined;
    const special = SPECIAL[cf.functionName];
    if (special) return { name: cf.functionName, file: '', line: 0, startLine: 0, kind: special.kind };
    const startLine = cf.lineNumber + 1;
    const name = cf.functionName || '(anonymous)';
    if (cf.url === '') return { name: `(native) ${name}`, file: '', line: 0, startLine: 0, kind: 'native' };
    const file = urlToFile(cf.url);
    if (line === undefined || !owners) return { name, file, line: line ?? startLine, startLine, column: 0, kind: 'js' };
    const owner = cf.scriptId ? owners.owner(cf.scriptId, cf.lineNumber, cf.columnNumber, line) : undefined;
    if (owner?.own) return { name, file, line, startLine, column: 0, kind: 'js' };
    const frame: SourceFrame = { name, file, line: startLine, startLine, column: 0, kind: 'js' };
    if (!owner) return frame;
    const inlined: SourceFrame = {
      name: owner.name || '(anonymous)',
      file: urlToFile(owner.url),
      line,
      startLine: owner.startLine,
      kind: 'js',
    };
    return { ...frame, inline: [inlined] };
  };
  // Caller chains are shared by all samples of a node: build each once.
  const callers = new Map<number, SourceFrame[]>();
  const callerFrames = (id: number): SourceFrame[] => {
    let c = callers.get(id);
    if (!c) {
      c = [];
      for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
        const f = frameOf(p);
        if (f) c.push(f);
      }
      callers.set(id, c);
    }
    return c;
  };
  // Per node, the lines its self ticks fell on, handed out one per sample.
  const lineQueue = new Map<number, number[]>();
  for (const n of profile.nodes) {
    if (!n.positionTicks?.length) continue;
    const q: number[] = [];
    for (const t of n.positionTicks) for (let i = 0; i < t.ticks; i++) q.push(t.line);
    lineQueue.set(n.id, q.reverse());
  }
  const ids = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const folded = new Map<string, { frames: SourceFrame[]; ns: number; count: number; vmState: string }>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const line = lineQueue.get(id)?.pop();
    const leaf = frameOf(id, line);
    if (!leaf) continue;
    // A sample's weight is the time until the next one; the last sample gets the interval.
    const next = deltas[i + 1];
    const ns = next !== undefined && next > 0 ? Math.round(next * 1000) : intervalNs;
    const key = `${id}:${line}`;
    const entry = folded.get(key);
    if (entry) {
      entry.ns += ns;
      entry.count++;
    } else {
      const vmState = SPECIAL[leaf.name]?.vmState ?? (leaf.kind === 'native' ? 'EXTERNAL' : 'JS');
      folded.set(key, { frames: [leaf, ...callerFrames(id)], ns, count: 1, vmState });
    }
  }
  const samples = [...folded.values()].map((e) => ({
    frames: e.frames,
    values: [e.ns],
    count: e.count,
    vmState: e.vmState,
  }));
  return {
    samples,
    startNanos: Math.round(profile.startTime * 1000),
    durationNanos: Math.round((profile.endTime - profile.startTime) * 1000),
  };
}

/** Owners that know no line: every leaf at its function's first line. */
const NO_OWNERS: LineOwners = { owner: () => undefined };

export class V8Source implements SampleSource {
  readonly name = 'v8';
  private session: Session | undefined;
  private startedAt = 0;
  private readonly intervalUs: number;

  constructor(private readonly settings: SourceSettings) {
    this.intervalUs = Math.max(1, Math.round(settings.period / 1000));
  }

  start(): void {
    const session = new Session();
    session.connect();
    try {
      post(session, 'Profiler.enable');
      post(session, 'Profiler.setSamplingInterval', { interval: this.intervalUs });
      this.startedAt = Date.now();
      post(session, 'Profiler.start');
    } catch (e) {
      session.disconnect();
      throw e;
    }
    this.session = session;
  }

  samplesSoFar(): number {
    // The inspector does not expose a live count; estimate from elapsed time.
    return this.session ? Math.floor(((Date.now() - this.startedAt) * 1000) / this.intervalUs) : 0;
  }

  stop(): SourceResult {
    const session = this.session;
    this.session = undefined;
    let profile: InspectorProfile = { nodes: [], startTime: this.startedAt * 1000, endTime: this.startedAt * 1000 };
    const event = lookupEvent('v8')!;
    const warnings: string[] = [];
    let converted: ReturnType<typeof fromInspectorProfile> | undefined;
    if (session) {
      try {
        profile = post<{ profile: InspectorProfile }>(session, 'Profiler.stop').profile;
        // Whose each line is, asked while the session is open (it reads coverage and sources).
        let lines: ReturnType<typeof inspectLineOwners> | undefined;
        try {
          if (profile.nodes.some((n) => n.positionTicks?.length)) lines = inspectLineOwners(session);
        } catch (e) {
          warnings.push(`event=v8 lines are function-level: no coverage from the inspector (${(e as Error).message})`);
        }
        converted = fromInspectorProfile(profile, this.intervalUs * 1000, lines?.owners ?? NO_OWNERS);
        lines?.close();
        post(session, 'Profiler.disable');
      } finally {
        session.disconnect();
      }
    }
    const { samples, durationNanos } = converted ?? fromInspectorProfile(profile, this.intervalUs * 1000, NO_OWNERS);
    return {
      source: 'v8',
      events: [event],
      valueTypes: [event.sampleType],
      periodType: event.sampleType,
      period: this.intervalUs * 1000,
      samples,
      lost: 0,
      unresolved: 0,
      // Inspector times are on a monotonic clock; anchor the start to wall time.
      startNanos: this.startedAt * 1e6,
      durationNanos,
      warnings,
    };
  }
}
