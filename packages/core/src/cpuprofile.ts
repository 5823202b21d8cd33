/**
 * CPUProfile, after Go's accepted design (golang/go#42502, #53286): configure while stopped,
 * start(), stop() → the profile and its stats. One profile at a time per thread; restartable.
 */
import { performance } from 'node:perf_hooks';
import { parseConfig, formatConfig, DEFAULT_CONFIG, type ProfileConfig } from './config.js';
import { ProfileError, isProfileError } from './errors.js';
import { resolveRun, type ResolvedRun } from './availability.js';
import { buildProfile, type BuildOptions } from './profile.js';
import type { Label, Profile } from './model.js';
import { encode } from './encode.js';
import { writeAtomic } from './write.js';
import { V8Source } from './sources/v8.js';
import { nativeStatus } from './sources/native.js';
import type { SampleSource, SourceSettings } from './sources/source.js';

/** What stop() reports besides the profile: the run it resolved to, and what it collected. */
export interface ProfileStats extends Pick<ResolvedRun, 'source' | 'rate' | 'period' | 'reason' | 'warnings'> {
  readonly samples: number;
  readonly lost: number;
  readonly unresolved: number;
  readonly durationNanos: number;
  /** Time spent in start() and stop() themselves (symbolizing, building), in nanoseconds. */
  readonly selfNanos: number;
  readonly event: string;
  readonly events: readonly string[];
}

export interface StopResult {
  readonly profile: Profile;
  readonly stats: ProfileStats;
}

export interface CPUProfileOptions {
  /** Rewrites each stack before it is added (harness cutting, source maps). */
  readonly transform?: BuildOptions['transform'];
  /** Paths under this directory are written relative to it. */
  readonly pathRoot?: string;
  /** Labels on every sample. */
  readonly labels?: readonly Label[];
  /** Extra comments (the config, source and runtime are always recorded). */
  readonly comments?: readonly string[];
  /** Native sources: rewritten with the sample count every 250 ms while running (see SourceSettings). */
  readonly progressFile?: string;
}

const ACTIVE = Symbol.for('perfprofile.activeProfile');
type GlobalWithActive = typeof globalThis & { [ACTIVE]?: CPUProfile };

/** Creates the source for a resolved run; the native engine must be loaded for non-v8 sources. */
export function createSource(run: ResolvedRun, progressFile?: string): SampleSource {
  const settings: SourceSettings = {
    events: run.events,
    period: run.period,
    kernel: run.config.kernel,
    precise: run.config.precise,
    depth: run.config.depth,
    progressFile,
  };
  if (run.source === 'v8') return new V8Source(settings);
  const native = nativeStatus();
  if (!native.ok)
    throw new ProfileError(
      'ERR_EVENT_UNAVAILABLE',
      `event ${run.events[0].name} needs the native engine: ${native.reason}`,
      'use event=v8',
    );
  return native.engine.createSource(settings);
}

/**
 * Prepares this thread for profiles started later with `config`: a native source then names
 * code that was optimized before it started (on Node >= 22 it otherwise cannot: V8 no longer
 * reports existing optimized code when sampling starts). Call it before the code to be
 * profiled warms up, e.g. before a benchmark's warm-up. True when it applies (a native source
 * is what the config resolves to here); false for event=v8 or a config that cannot run.
 */
export function trackCode(config: string | ProfileConfig = DEFAULT_CONFIG): boolean {
  const parsed = typeof config === 'string' ? parseConfig(config) : config;
  if (isProfileError(parsed)) return false;
  const run = resolveRun(parsed);
  if (isProfileError(run) || run.source === 'v8') return false;
  const native = nativeStatus();
  if (!native.ok) return false;
  native.engine.trackCode();
  return true;
}

export class CPUProfile {
  private config: ProfileConfig;
  private running: { source: SampleSource; run: ResolvedRun; startCost: number; out?: string } | undefined;

  /** A profile configured by a config string (`"event=task-clock rate=1000"`) or object. */
  constructor(
    config: string | ProfileConfig = DEFAULT_CONFIG,
    private readonly options: CPUProfileOptions = {},
  ) {
    const parsed = typeof config === 'string' ? parseConfig(config) : config;
    if (isProfileError(parsed)) throw parsed;
    this.config = parsed;
  }

  /** True between start() and stop(). */
  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** The current configuration (canonical text via formatConfig). */
  get configuration(): ProfileConfig {
    return this.config;
  }

  private configure(patch: Partial<ProfileConfig>): this {
    if (this.running)
      throw new ProfileError('ERR_PROFILE_STATE', 'cannot reconfigure a running profile', 'call stop() first');
    this.config = { ...this.config, ...patch };
    return this;
  }

  /** Sampling event (first) and events read at each sample: `setEvent('task-clock', 'page-faults')`. */
  setEvent(...names: string[]): this {
    const parsed = parseConfig(`event=${names.join(',')}`);
    if (isProfileError(parsed)) throw parsed;
    return this.configure({ events: parsed.events });
  }

  /** `rate=` semantics: Hz for clock events, events between samples for count events. */
  setRate(rate: number): this {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new ProfileError('ERR_CONFIG_VALUE', `rate ${rate} must be greater than zero`, 'e.g. setRate(1000)');
    return this.configure({ rate: Math.round(rate) });
  }

  /** Events between samples (count events) or nanoseconds between samples (clock events). */
  setPeriod(period: number): this {
    if (!(period > 0) || !Number.isFinite(period))
      throw new ProfileError(
        'ERR_CONFIG_VALUE',
        `period ${period} must be greater than zero`,
        'e.g. setPeriod(1_000_000)',
      );
    const clock = this.config.events[0].clock;
    return this.configure({ rate: clock ? Math.max(1, Math.round(1e9 / period)) : Math.round(period) });
  }

  /** Also count kernel-mode events (needs CAP_PERFMON or perf_event_paranoid < 2). */
  setSampleKernel(kernel: boolean): this {
    return this.configure({ kernel });
  }

  /**
   * Starts sampling this thread. Throws ERR_PROFILE_RUNNING if this or another profile is
   * running on this thread, and ERR_EVENT_UNAVAILABLE if the event cannot run here. With
   * `out`, stop() also writes the gzipped pprof there (atomically).
   */
  start(out?: string): ResolvedRun {
    const g = globalThis as GlobalWithActive;
    if (this.running)
      throw new ProfileError(
        'ERR_PROFILE_RUNNING',
        'this profile is already running',
        'call stop() before starting it again',
      );
    if (g[ACTIVE])
      throw new ProfileError(
        'ERR_PROFILE_RUNNING',
        'another CPU profile is running on this thread',
        'stop it first; one profile per thread at a time',
      );
    const t0 = performance.now();
    const run = resolveRun(this.config);
    if (isProfileError(run)) throw run;
    const source = createSource(run, this.options.progressFile);
    g[ACTIVE] = this;
    try {
      source.start();
    } catch (e) {
      g[ACTIVE] = undefined;
      throw e;
    }
    this.running = { source, run, startCost: performance.now() - t0, out };
    return run;
  }

  /** Samples so far (0 when stopped); cheap, for progress lines. */
  samplesSoFar(): number {
    return this.running?.source.samplesSoFar() ?? 0;
  }

  /** Stops sampling and returns the profile and stats; undefined (a no-op) when not running. */
  stop(): StopResult | undefined {
    const running = this.running;
    if (!running) return undefined;
    this.running = undefined;
    const g = globalThis as GlobalWithActive;
    if (g[ACTIVE] === this) g[ACTIVE] = undefined;
    const t0 = performance.now();
    const result = running.source.stop();
    const { run } = running;
    const comments = [
      `perfprofile config ${formatConfig(run.config)}`,
      `source ${result.source}: ${run.reason}`,
      `event ${run.events.map((e) => e.name).join(',')} ${run.events[0].clock ? `rate ${run.rate} Hz` : `period ${run.period}`}`,
      `node ${process.version} (V8 ${process.versions.v8}) ${process.platform}-${process.arch}`,
      ...run.warnings.map((w) => `warning: ${w}`),
      ...result.warnings.map((w) => `warning: ${w}`),
      ...(this.options.comments ?? []),
    ];
    const profile = buildProfile(result, {
      depth: run.config.depth,
      transform: this.options.transform,
      pathRoot: this.options.pathRoot,
      labels: this.options.labels,
      comments,
    });
    let samples = 0;
    for (const s of result.samples) samples += s.count;
    const stats: ProfileStats = {
      samples,
      lost: result.lost,
      unresolved: result.unresolved,
      durationNanos: result.durationNanos,
      selfNanos: Math.round((running.startCost + performance.now() - t0) * 1e6),
      source: result.source,
      event: run.events[0].name,
      events: run.events.map((e) => e.name),
      rate: run.rate,
      period: run.period,
      reason: run.reason,
      warnings: [...run.warnings, ...result.warnings],
    };
    if (running.out) writeAtomic(running.out, encode(profile));
    return { profile, stats };
  }
}
