/**
 * The native engine behind {@link NativeEngine}: perf_event, thread-CPU-timer or cross-core
 * CPU-clock (thread-cputime) sampling of the calling thread through @perfprofile/native, availability probes worded for users, and
 * counting-mode counters for per-op stats.
 */
import { readFileSync } from 'node:fs';
import { ProfileError } from '../errors.js';
import type { EventSpec } from '../events.js';
// Types only: @perfprofile/native is an optional dependency, loaded at runtime by native.ts.
import type { Binding, PerfEventSel, Sampler } from '@perfprofile/native';
import type { SampleSource, SourceResult, SourceSettings } from './source.js';
import { toSourceSamples } from './native-stacks.js';
import { inlineNamer, startCodeLog } from './native-inline.js';
import { V8_LOG_ENV } from '../inline/v8-log-file.js';

/** The addon's surface, as native/index.d.ts declares it. */
export type NativeBinding = Binding;

/** Counting-mode counters for the baseline pass: totals per event name between start and stop. */
export interface NativeCounters {
  start(): void;
  stop(): Record<string, number>;
}

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  13: 'EACCES',
  19: 'ENODEV',
  22: 'EINVAL',
  24: 'EMFILE',
  95: 'EOPNOTSUPP',
};

/**
 * The OS, as the native engine sees it. Tests stand in another one in-process with
 * {@link simulatePlatform}, or for a whole process tree (CLI, Vitest workers, the install script)
 * with env PERFPROFILE_SIMULATE_PLATFORM=darwin|win32.
 */
const osPlatform = (): NodeJS.Platform =>
  (process.env.PERFPROFILE_SIMULATE_PLATFORM as NodeJS.Platform | undefined) || process.platform;
export let nativePlatform: () => NodeJS.Platform = osPlatform;
/** For tests: simulate a platform (undefined restores the real one). */
export function simulatePlatform(platform: NodeJS.Platform | undefined): void {
  nativePlatform = platform === undefined ? osPlatform : () => platform;
}

function paranoid(): string {
  try {
    return readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Why perf_event_open failed with `errno`, worded for a user. */
export function reasonForErrno(errno: number, event: EventSpec): string {
  const code = ERRNO[errno] ?? `errno ${errno}`;
  if (errno === 2)
    return event.kind === 'software' ? `not supported by this kernel (ENOENT)` : 'no hardware PMU (ENOENT)';
  if (errno === 13 || errno === 1)
    return `perf_event_paranoid=${paranoid()}: needs CAP_PERFMON or \`sysctl kernel.perf_event_paranoid=1\` (${code})`;
  if (errno === 19) return 'no such PMU (ENODEV)';
  if (errno === 95) return `not supported on this machine (EOPNOTSUPP)`;
  if (errno === 22) return `rejected by perf_event_open (EINVAL)`;
  return `perf_event_open failed (${code})`;
}

function perfSel(e: EventSpec): PerfEventSel {
  if (!e.perf)
    throw new ProfileError(
      'ERR_CONFIG_VALUE',
      `event ${e.name} is not a perf event and cannot be read at each sample`,
      'extra events must be perf events, e.g. event=task-clock,page-faults',
    );
  return { type: e.perf.type, config: e.perf.config };
}

/** The ProfileError for a sampler's start() that threw (exported for tests). */
export function startError(e: unknown, first: EventSpec): ProfileError {
  const err = e as { code?: string; errno?: number; message?: string; syscall?: string };
  if (err?.code === 'ERR_PROFILE_RUNNING') {
    return new ProfileError(
      'ERR_PROFILE_RUNNING',
      'a native profile is already running on this thread',
      'stop it first; other threads (Workers) are independent',
    );
  }
  if (typeof err?.errno === 'number' && first.kind === 'cputime') {
    const code = ERRNO[err.errno] ?? (err.errno === 11 ? 'EAGAIN' : `errno ${err.errno}`);
    return new ProfileError(
      'ERR_EVENT_UNAVAILABLE',
      `event thread-cputime is unavailable: ${err.syscall ?? 'its helper thread'} failed (${code})`,
      err.errno === 11
        ? 'the process cannot start another thread (RLIMIT_NPROC, RLIMIT_AS or memory); use event=task-clock'
        : 'use event=task-clock',
    );
  }
  if (typeof err?.errno === 'number') {
    return new ProfileError(
      'ERR_EVENT_UNAVAILABLE',
      `event ${first.name} is unavailable: ${reasonForErrno(err.errno, first)}`,
      '`perfprofile events` lists what works here',
    );
  }
  return new ProfileError('ERR_PROFILE_STATE', `native sampler failed to start: ${err?.message ?? String(e)}`);
}

/** Test hook: switch off one of the prototype's fixes (env PERFPROFILE_NATIVE_NOFIX=leaf,frameless,remap). */
function fixesFromEnv(): { leaf: boolean; frameless: boolean; remap: boolean } {
  const off = new Set((process.env.PERFPROFILE_NATIVE_NOFIX ?? '').split(',').map((s) => s.trim()));
  return { leaf: !off.has('leaf'), frameless: !off.has('frameless'), remap: !off.has('remap') };
}

/**
 * Test and harness hook: V8's stack walk memoized ('on', the default), walked for every sample
 * ('off'), or both and compared ('check'), by env PERFPROFILE_STACK_MEMO.
 */
function stackMemoFromEnv(): 'on' | 'off' | 'check' {
  const v = process.env.PERFPROFILE_STACK_MEMO;
  return v === 'off' || v === 'check' ? v : 'on';
}

class NativeSource implements SampleSource {
  readonly name: 'perf_event' | 'timer' | 'thread-cputime';
  private readonly sampler: Sampler;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private result: SourceResult | undefined;

  constructor(
    private readonly binding: NativeBinding,
    private readonly settings: SourceSettings,
  ) {
    const [first, ...extra] = settings.events;
    const timer = first.kind === 'timer';
    const clockHelper = first.kind === 'cputime';
    this.name = timer ? 'timer' : clockHelper ? 'thread-cputime' : 'perf_event';
    const events = timer || clockHelper ? extra.map(perfSel) : [perfSel(first), ...extra.map(perfSel)];
    this.sampler = new binding.Sampler({
      timer,
      clockHelper,
      events,
      period: settings.period,
      kernel: settings.kernel,
      precise: settings.precise ?? 0,
      // The addon keeps `depth - 1` frames and appends the truncation marker, so a cut stack is
      // exactly `depth` frames, as truncate() would cut it (and buildProfile does not cut it again).
      depth: Math.max(settings.depth - 1, 1),
      fixes: fixesFromEnv(),
      stackMemo: stackMemoFromEnv(),
      progressPath: settings.progressFile,
    });
  }

  start(): void {
    if (this.state !== 'new')
      throw new ProfileError(
        'ERR_PROFILE_STATE',
        `this ${this.name} source was already started`,
        'create a new source per profile',
      );
    // Under a log, track: that starts V8's code log (after the enumeration, which it would
    // otherwise write at every untracked start).
    if (process.env[V8_LOG_ENV] && nativePlatform() === 'linux') track(this.binding);
    try {
      this.sampler.start();
    } catch (e) {
      throw startError(e, this.settings.events[0]);
    }
    this.state = 'running';
  }

  samplesSoFar(): number {
    return this.sampler.samples();
  }

  stop(): SourceResult {
    if (this.result) return this.result;
    if (this.state === 'new') throw new ProfileError('ERR_PROFILE_STATE', `this ${this.name} source was never started`);
    const raw = this.sampler.stop();
    this.state = 'stopped';
    const events = this.settings.events;
    const warnings: string[] = [];
    if (raw.lost > 0)
      warnings.push(
        this.name === 'thread-cputime'
          ? `${raw.lost} samples lost (periods the helper thread could not signal in time, ring full or signal queue overflow)`
          : `${raw.lost} samples lost (ring full or signal queue overflow)`,
      );
    if (raw.unresolved > 0) warnings.push(`${raw.unresolved} frames could not be named`);
    // PERFPROFILE_STACK_MEMO=check: every replayed stack was also walked by V8 and compared.
    const memo = raw.stackMemo;
    if (memo && stackMemoFromEnv() === 'check')
      warnings.push(
        `stack memo check: ${memo.hits} of ${raw.samples} stacks replayed, ${memo.mismatches} differed from V8's walk` +
          (memo.firstMismatch ? ` (first: ${memo.firstMismatch})` : ''),
      );
    const inline = inlineNamer(this.binding, warnings);
    this.result = {
      source: this.name,
      events,
      valueTypes: events.map((e) => e.sampleType),
      periodType: events[0].sampleType,
      period: this.settings.period,
      samples: toSourceSamples(raw.frames, raw.stacks, this.binding, inline),
      lost: raw.lost,
      unresolved: raw.unresolved,
      startNanos: raw.startNs,
      durationNanos: Math.max(0, raw.stopNs - raw.startNs),
      warnings,
    };
    return this.result;
  }
}

/** Starts tracking this thread's code (idempotent), then V8's code log (startCodeLog). */
function track(binding: NativeBinding): void {
  binding.trackCode();
  startCodeLog(binding);
}

/** The engine over a loaded binding. */
export function createEngine(binding: NativeBinding) {
  return {
    probe(event: EventSpec, kernel: boolean): string | undefined {
      if (nativePlatform() !== 'linux') return 'Linux only';
      if (event.kind === 'v8' || event.kind === 'auto') return undefined;
      if (event.kind === 'cputime') {
        // An addon built before the helper existed ignores clockHelper and would use perf.
        if (typeof binding.Sampler.prototype.helperCpuNs !== 'function')
          return 'the native addon predates thread-cputime (rebuild @perfprofile/native)';
        return undefined;
      }
      if (event.kind === 'timer') {
        const errno = binding.probeTimer();
        // The thread CPU clock counts user and kernel time alike: kernel needs no privilege here.
        if (errno !== 0) return `timer_create(CLOCK_THREAD_CPUTIME_ID) failed (${ERRNO[errno] ?? `errno ${errno}`})`;
        return undefined;
      }
      if (!event.perf) return `not a perf event`;
      const errno = binding.probe(event.perf.type, event.perf.config, kernel, 0);
      return errno === 0 ? undefined : reasonForErrno(errno, event);
    },
    createSource(settings: SourceSettings): SampleSource {
      if (nativePlatform() !== 'linux')
        throw new ProfileError(
          'ERR_EVENT_UNAVAILABLE',
          `event ${settings.events[0].name} is unavailable: Linux only`,
          'use event=v8 off Linux',
        );
      return new NativeSource(binding, settings);
    },
    trackCode(): void {
      if (nativePlatform() === 'linux') track(binding);
    },
    createCounters(events: readonly EventSpec[]): NativeCounters {
      const counters = new binding.Counters(events.map(perfSel));
      return {
        start() {
          try {
            counters.start();
          } catch (e) {
            throw startError(e, events[0]);
          }
        },
        stop() {
          const totals = counters.stop();
          const out: Record<string, number> = {};
          events.forEach((e, i) => (out[e.name] = totals[i] ?? 0));
          return out;
        },
      };
    },
  };
}
