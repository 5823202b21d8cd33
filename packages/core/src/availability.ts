/**
 * Which events can run here, and which source a config runs on. {@link resolveRun} is where
 * `event=auto`, `fallback=` and rate clamping are decided, once, before anything is sampled.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ProfileConfig } from './config.js';
import { EVENTS, type EventSpec, type EventKind, lookupEvent, MAX_V8_HZ } from './events.js';
import { ProfileError } from './errors.js';
import { nativeStatus } from './sources/native.js';
import type { SourceName } from './sources/source.js';

export interface EventAvailability {
  readonly name: string;
  readonly kind: EventKind;
  readonly available: boolean;
  /** Why not, when unavailable (e.g. "no hardware PMU (ENOENT)"). */
  readonly reason?: string;
}

/** Why `event` cannot run here, or undefined when it can. */
export function unavailableReason(event: EventSpec, kernel = false): string | undefined {
  if (event.kind === 'v8') return undefined;
  if (event.kind === 'auto') return undefined;
  const native = nativeStatus();
  if (!native.ok) return native.reason;
  return native.engine.probe(event, kernel);
}

/** Every named event with whether it is usable here and why not. */
export function events(): EventAvailability[] {
  return EVENTS.map((e) => {
    const reason = unavailableReason(e);
    return reason === undefined
      ? { name: e.name, kind: e.kind, available: true }
      : { name: e.name, kind: e.kind, available: false, reason };
  });
}

/** A config bound to what runs it here. */
export interface ResolvedRun {
  readonly config: ProfileConfig;
  readonly source: SourceName;
  /** Sampling event first (never `auto`), then events read at each sample. */
  readonly events: readonly EventSpec[];
  /** Hz for clock events, a period for count events, after defaults and clamping. */
  readonly rate: number;
  /** Nanoseconds between samples (clock events) or events between samples (count events). */
  readonly period: number;
  /** Why this source was chosen, for comments, index.json and the summary. */
  readonly reason: string;
  readonly warnings: readonly string[];
}

function sourceOf(event: EventSpec): SourceName {
  if (event.kind === 'v8') return 'v8';
  if (event.kind === 'timer') return 'timer';
  if (event.kind === 'cputime') return 'thread-cputime';
  return 'perf_event';
}

/** CPUs this process may use: its affinity, and its cgroup's cpu.max quota (cgroup v2) if lower. */
export function usableCpus(): { readonly cpus: number; readonly why: string } {
  const affinity = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  let cpus = affinity;
  let why = `sched_getaffinity allows ${affinity}`;
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    // The quota of this cgroup or of any parent bounds it; the smallest one applies.
    for (
      let dir = line?.slice(3).trim();
      dir !== undefined;
      dir = dir === '/' || dir === '' ? undefined : dir.replace(/\/[^/]*$/, '') || '/'
    ) {
      let max: string;
      try {
        max = readFileSync(`/sys/fs/cgroup${dir === '/' ? '' : dir}/cpu.max`, 'utf8').trim();
      } catch {
        continue;
      }
      const [quota, period] = max.split(/\s+/);
      if (quota === 'max' || !Number(period)) continue;
      const q = Number(quota) / Number(period);
      if (q < cpus) {
        cpus = q;
        why = `cgroup cpu.max ${quota}/${period} (${dir}) allows ${q.toFixed(2)}`;
      }
    }
  } catch {
    // no cgroup v2 here: the affinity alone
  }
  return { cpus, why };
}

/**
 * Whether `event=auto` prefers thread-cputime over task-clock where two CPUs are usable. Off:
 * it is cheaper for the sampled thread but not as accurate around blocking calls (samples land
 * in them; docs/PERFORMANCE.md: thread-cputime), the condition the choice needed.
 */
export const AUTO_PICKS_THREAD_CPUTIME = false;

/**
 * Rates above this cost the thread-cputime helper more than 30% of a core (pilot run, a 2-core
 * VM: ~25 µs per wake-up); `rate` beyond it warns once per process.
 */
export const THREAD_CPUTIME_AFFORDABLE_HZ = 10_000;
let warnedAffordable = false;

function cputimeWarnings(run: ResolvedRun): ResolvedRun {
  if (run.source !== 'thread-cputime') return run;
  const warnings = [...run.warnings];
  const { cpus, why } = usableCpus();
  if (cpus < 2)
    warnings.push(
      `event=thread-cputime with one usable CPU (${why}): its helper thread shares the core with the sampled thread, which makes it dearer than task-clock`,
    );
  if (run.rate > THREAD_CPUTIME_AFFORDABLE_HZ && !warnedAffordable) {
    warnedAffordable = true;
    warnings.push(
      `rate=${run.rate}: above ${THREAD_CPUTIME_AFFORDABLE_HZ} Hz the thread-cputime helper uses more than 30% of a core (docs/PERFORMANCE.md); task-clock costs the machine less`,
    );
  }
  return { ...run, warnings };
}

/** Rate after default and clamping, with the warning clamping owes the user. */
function effectiveRate(event: EventSpec, asked: number | undefined, warnings: string[]): number {
  if (asked === undefined) return event.defaultRate;
  if (event.clock && asked > event.limit) {
    warnings.push(
      `rate=${asked} is above the ${event.limit} Hz maximum for ${event.name}; clamped to ${event.limit} Hz`,
    );
    return event.limit;
  }
  if (!event.clock && asked < event.limit) {
    warnings.push(
      `rate=${asked} is below the minimum period ${event.limit} for ${event.name}; clamped to ${event.limit}`,
    );
    return event.limit;
  }
  return asked;
}

function bind(config: ProfileConfig, events: readonly EventSpec[], reason: string, warnings: string[]): ResolvedRun {
  const first = events[0];
  const rate = effectiveRate(first, config.rate, warnings);
  const period = first.clock ? Math.round(1e9 / rate) : rate;
  return { config, source: sourceOf(first), events, rate, period, reason, warnings };
}

/**
 * Decides the source for a config on this machine: `auto` picks cycles when a PMU is usable,
 * else the CPU-time source, else `v8`; an unavailable event uses `fallback` when given and
 * otherwise fails with ERR_EVENT_UNAVAILABLE naming the cause.
 */
export function resolveRun(config: ProfileConfig): ResolvedRun | ProfileError {
  const run = resolve(config);
  return run instanceof ProfileError ? run : cputimeWarnings(run);
}

/** The CPU-time events `auto` tries after cycles, in order, with why one was left out. */
function autoCpuTime(tried: string[]): string[] {
  if (!AUTO_PICKS_THREAD_CPUTIME) return ['task-clock'];
  const { cpus, why } = usableCpus();
  if (cpus >= 2) return ['thread-cputime', 'task-clock'];
  tried.push(`thread-cputime: one usable CPU, ${why}`);
  return ['task-clock'];
}

function resolve(config: ProfileConfig): ResolvedRun | ProfileError {
  const warnings: string[] = [];
  const [first, ...extra] = config.events;
  if (first.kind === 'auto') {
    const tried: string[] = [];
    for (const name of ['cycles', ...autoCpuTime(tried)]) {
      const spec = lookupEvent(name)!;
      const why = unavailableReason(spec, config.kernel);
      if (why === undefined)
        return bind(
          config,
          [spec],
          `event=auto chose ${name}${tried.length ? ` (${tried.join('; ')})` : ''}`,
          warnings,
        );
      tried.push(`${name}: ${why}`);
    }
    const v8 = lookupEvent('v8')!;
    // A notice, not an error: the profile is wall-clock samples from V8's own sampler.
    const reasons = [...new Set(tried.map((t) => t.slice(t.indexOf(': ') + 2)))];
    warnings.push(
      `event=auto uses v8 (V8's sampler, wall clock): no native event here (${reasons.length === 1 ? reasons[0] : tried.join('; ')})`,
    );
    if (config.rate !== undefined && config.rate > MAX_V8_HZ)
      warnings.push(`event=auto fell back to v8, which samples at most ${MAX_V8_HZ} Hz`);
    return bind(config, [v8], `event=auto chose v8 (${tried.join('; ')})`, warnings);
  }
  if (first.kind === 'v8' && config.kernel) {
    return new ProfileError(
      'ERR_CONFIG_VALUE',
      'kernel=true needs a perf event; event=v8 samples JavaScript only',
      'use event=task-clock kernel=true, or drop kernel=true',
    );
  }
  const all = [first, ...extra];
  const missing = all
    .map((e) => [e, unavailableReason(e, config.kernel)] as const)
    .find(([, why]) => why !== undefined);
  if (!missing) return bind(config, all, `event=${first.name} as configured`, warnings);
  const [event, why] = missing;
  if (config.fallback && event === first) {
    const fbWhy = unavailableReason(config.fallback, config.kernel);
    if (fbWhy === undefined) {
      warnings.push(`event ${first.name} is unavailable (${why}); using fallback ${config.fallback.name}`);
      return bind(
        config,
        [config.fallback],
        `fallback=${config.fallback.name}: ${first.name} unavailable (${why})`,
        warnings,
      );
    }
    return new ProfileError(
      'ERR_EVENT_UNAVAILABLE',
      `event ${first.name} is unavailable (${why}) and so is fallback ${config.fallback.name} (${fbWhy})`,
      'choose another event; `perfprofile events` lists what works here',
    );
  }
  return new ProfileError('ERR_EVENT_UNAVAILABLE', `event ${event.name} is unavailable: ${why}`, remedy(why!));
}

function remedy(reason: string): string {
  if (/ENOENT|PMU/.test(reason))
    return 'this machine has no hardware PMU; use event=task-clock or add fallback=task-clock';
  if (/paranoid|EACCES|EPERM/.test(reason))
    return 'run with CAP_PERFMON or `sysctl kernel.perf_event_paranoid=1`, or drop kernel=true';
  if (/Linux only/.test(reason)) return 'use event=v8 off Linux';
  if (/native/.test(reason)) return 'use event=v8, or build @perfprofile/native (see its README)';
  return '`perfprofile events` lists what works here';
}
