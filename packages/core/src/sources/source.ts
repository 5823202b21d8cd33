/**
 * What every sampling source (V8 inspector, native perf_event, native timer) hands to the
 * profile builder: stacks of frames, leaf first, each with its weights. Sources know nothing
 * about pprof; profile.ts turns a {@link SourceResult} into a Profile.
 */
import type { Frame } from '../builder.js';
import type { EventSpec } from '../events.js';
import type { ValueType } from '../model.js';

/** Where samples come from: V8's inspector sampler, or the native engine's three triggers. */
export type SourceName = 'v8' | 'perf_event' | 'timer' | 'thread-cputime';

/** V8's execution tiers, from the code-name marker (`~` `^` `+` `*`). */
export type Tier = 'ignition' | 'sparkplug' | 'maglev' | 'turbofan';

export type FrameKind = 'js' | 'builtin' | 'native' | 'gc' | 'program' | 'idle' | 'unknown' | 'truncated';

export interface SourceFrame extends Frame {
  readonly kind: FrameKind;
  /** JS frames: the tier the code ran in, when the source knows it. */
  readonly tier?: Tier;
  /**
   * The functions the JIT inlined into this frame's code at its pc, innermost first (the frame
   * itself is the physical, outermost function; its `line` is then the call site's). Their
   * `file` and `line` are as V8 has them: a caller's transform maps them like the frame's own.
   */
  readonly inline?: readonly SourceFrame[];
}

export interface SourceSample {
  /** Leaf first; at most `depth` frames (sources may leave truncation to the builder). */
  readonly frames: readonly SourceFrame[];
  /** Weights, one per event column: the sampling event's (ns or period), then each extra event's delta. */
  readonly values: readonly number[];
  /** How many samples were folded into this one (its `samples/count` value). */
  readonly count: number;
  /** V8 VM state at the sample (JS, GC, COMPILER, EXTERNAL, IDLE, OTHER...), when known. */
  readonly vmState?: string;
}

export interface SourceResult {
  readonly source: SourceName;
  /** The sampling event first, then the events read at each sample. */
  readonly events: readonly EventSpec[];
  /** Value columns after `samples/count`, one per event. */
  readonly valueTypes: readonly ValueType[];
  readonly periodType: ValueType;
  /** Events between samples (count events) or nanoseconds between samples (clock events). */
  readonly period: number;
  readonly samples: readonly SourceSample[];
  /** Samples the source knows it dropped (ring full, signal queue overflow). */
  readonly lost: number;
  /** Frames the source could not name (should be 0). */
  readonly unresolved: number;
  readonly startNanos: number;
  readonly durationNanos: number;
  readonly warnings: readonly string[];
}

/** Settings a source is started with, resolved from the config. */
export interface SourceSettings {
  readonly events: readonly EventSpec[];
  /** Clock events: nanoseconds between samples; count events: events between samples. */
  readonly period: number;
  readonly kernel: boolean;
  readonly precise: number | undefined;
  readonly depth: number;
  /**
   * Native sources: a file a helper thread rewrites with the sample count every 250 ms while
   * sampling, for progress shown by another process (the JS thread may be busy for seconds).
   */
  readonly progressFile?: string;
}

/** A sampler bound to the thread that created it. start/stop are synchronous. */
export interface SampleSource {
  readonly name: SourceName;
  start(): void;
  /** Stops sampling (idempotent once stopped) and returns everything collected. */
  stop(): SourceResult;
  /** Samples taken so far, cheap enough to poll for progress lines. */
  samplesSoFar(): number;
}
