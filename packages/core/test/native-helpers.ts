/** The native engine's test helpers: the 70/30 fixture's settings and shares, and runs of native/test/sampled.mjs in-process, in a Worker and in a child. */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { lookupEvent, type EventSpec } from '../src/events.js';
import { nativeStatus, type NativeEngine } from '../src/sources/native.js';
import type { Binding, RawProfile, Status } from '@perfprofile/native';
import { toSourceSamples } from '../src/sources/native-stacks.js';
import type { SourceSample, SourceSettings } from '../src/sources/source.js';

export const sampledScript = fileURLToPath(new URL('../../../native/test/sampled.mjs', import.meta.url));
export const split = new URL('../../../fixtures/workloads/split-70-30.mjs', import.meta.url).href;
export const status = nativeStatus();
export const engine = (status.ok ? status.engine : undefined) as NativeEngine;
export const ev = (name: string): EventSpec => lookupEvent(name)!;
export const TASK_CLOCK = { type: 1, config: 1 };

export function settings(events: string[], rateOrPeriod: number, extra: Partial<SourceSettings> = {}): SourceSettings {
  const specs = events.map(ev);
  const period = specs[0].clock ? Math.round(1e9 / rateOrPeriod) : rateOrPeriod;
  return { events: specs, period, kernel: false, precise: undefined, depth: 128, ...extra };
}

/** Share of the sampling weight whose stack contains each named function (any frame). */
export function shares(samples: readonly SourceSample[], names: string[]): Record<string, number> {
  const w: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  let total = 0;
  for (const s of samples) {
    total += s.values[0];
    const hit = names.find((n) => s.frames.some((f) => f.name === n && f.kind === 'js'));
    if (hit) w[hit] += s.values[0];
  }
  return Object.fromEntries(names.map((n) => [n, total ? w[n] / total : 0]));
}

/** hot / (hot + cold) by weight, and how much of all weight landed in the two. */
export function split7030(samples: readonly SourceSample[]): { hot: number; covered: number } {
  const s = shares(samples, ['hot', 'cold']);
  return { hot: s.hot / (s.hot + s.cold), covered: s.hot + s.cold };
}

export interface Sampled {
  truth: Record<string, number>;
  raw: RawProfile;
}

/** Weight share of samples whose leaf frame is the JS function `name`. */
export function leafShare(samples: readonly SourceSample[], name: string): number {
  let total = 0;
  let hit = 0;
  for (const s of samples) {
    total += s.count;
    if (s.frames[0]?.kind === 'js' && s.frames[0].name === name) hit += s.count;
  }
  return total ? hit / total : 0;
}

export function nativeBinding(): Binding {
  const native = createRequire(import.meta.url)('@perfprofile/native') as { status(): Status };
  const s = native.status();
  if (!s.ok) throw new Error(s.reason);
  return s.binding;
}

export function child(options: object, nodeFlags: string[] = []): Sampled {
  const out = execFileSync(process.execPath, [...nodeFlags, sampledScript, JSON.stringify(options)], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out) as Sampled;
}

export function inWorker(options: object, resourceLimits?: object): Promise<Sampled> {
  return new Promise((resolve, reject) => {
    const w = new Worker(sampledScript, { workerData: { sampled: options }, resourceLimits });
    w.once('message', (m: Sampled & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    w.once('error', reject);
  });
}

// The child's numbers come from the same build as this process's binding.
export const samplesOf = (r: Sampled) => toSourceSamples(r.raw.frames, r.raw.stacks, nativeBinding());
