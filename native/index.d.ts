/** One perf event: perf_event_attr type and config. */
export interface PerfEventSel {
  type: number;
  config: number | bigint;
}

export interface SamplerOptions {
  /** timer_create(CLOCK_THREAD_CPUTIME_ID) trigger instead of perf_event overflow. */
  timer?: boolean;
  /**
   * Cross-core CPU-time trigger (event thread-cputime): a helper thread reads this thread's CPU
   * clock and signals it once per `period` ns of CPU time; never while it is off CPU.
   */
  clockHelper?: boolean;
  /** perf: the sampling event first, then events read at each sample; timer: events read at each sample. */
  events: PerfEventSel[];
  /** Nanoseconds (timer, clock events) or events between samples. */
  period: number;
  kernel?: boolean;
  precise?: number;
  /** Max frames kept per sample (innermost); the rest are counted in `truncated`. */
  depth?: number;
  /** Preallocated ring for raw samples (default 8 MiB), drained while sampling; samples that do not fit are lost. */
  ringBytes?: number;
  /** The prototype's fixes, each on by default; switch one off to see what it fixes. */
  fixes?: { leaf?: boolean; frameless?: boolean; remap?: boolean };
  /**
   * V8's stack walk memoized per sample shape (src/stack_memo.h): 'on' (default) replays V8's
   * answer for a stack it has walked, 'off' walks every sample with V8, 'check' replays and
   * also walks with V8, counting the replays that differ (V8's answer is kept).
   */
  stackMemo?: 'on' | 'off' | 'check';
  /**
   * A measuring instrument, not a profile: the handler counts each signal (`samples()`) and
   * returns, recording nothing. The trigger's own cost to the thread: scripts/bench's
   * in-process floor.
   */
  signalOnly?: boolean;
  /** A file a helper thread rewrites with the sample count every 250 ms while sampling (for progress shown by another process). */
  progressPath?: string;
}

/** What a frame is: the names of the numbers in RawFrame, by number, are `Binding.frameKinds`. */
export type FrameKind = 'js' | 'builtin' | 'native' | 'gc' | 'program' | 'idle' | 'unknown';

/**
 * Where a JS frame is in its code, to look up in V8's code log (`--log-code --log-source-position`):
 * the code object as the sampler first saw it (its start when V8 added or enumerated it, kept
 * across moves) and its size, and the offset whose position the frame is at.
 */
export interface RawCode {
  /** The code object's start when first seen, as V8's log prints addresses: `0x` and lower-case hex. */
  start: string;
  size: number;
  /**
   * The executing frame: the sampled pc's offset. A caller in machine code: its return address's
   * offset minus 1 (the call, as V8's stack iterator looks it up). An interpreted frame: its
   * bytecode offset.
   */
  offset: number;
  /**
   * Without V8's code log, from its JIT code events' line tables: the frame's own 1-based line
   * and column at `offset`, when certain (bytecode; optimized code at a position of the
   * function's own).
   */
  line?: number;
  column?: number;
  /**
   * The innermost function inlined at `offset`, inferred from the script offset V8's line table
   * gives there (no inlining id): present only when exactly one known function explains it.
   * `name` is its V8 code name (`JS:~mix file:///a.mjs:3:13`), `line`/`column` its own, 1-based.
   */
  inferred?: { name: string; line: number; column: number };
}

/**
 * [name, kind, code?]: kind indexes `Binding.frameKinds`. JS names are V8's code names, e.g.
 * `JS:*hot file:///a.mjs:7:20`. JS frames in bytecode (at a known offset) or in Sparkplug, Maglev
 * or TurboFan code carry `code`, so frames of one function differ per code object and offset;
 * frames without it (builtins, GC, a frame at its entry check, a Sparkplug frame recovered under
 * a frameless builtin) name their function only.
 */
export type RawFrame = [name: string, kind: number, code?: RawCode];

export interface RawStack {
  /** v8::StateTag, indexing `Binding.vmStates` (a value beyond it is a state this list does not name). */
  vmState: number;
  /** Frames cut off beyond `depth`. */
  truncated: number;
  /** Indexes into `frames`, leaf first. */
  frames: number[];
  count: number;
  /** Summed values: the sampling weight (period), then one delta per extra event. */
  values: number[];
}

export interface RawProfile {
  frames: RawFrame[];
  stacks: RawStack[];
  samples: number;
  lost: number;
  unresolved: number;
  codeEvents: number;
  /** pcs seen in the executable's builtins and in its remapped copy (diagnostics). */
  blobPcs: number;
  remapPcs: number;
  startNs: number;
  stopNs: number;
  /** Live code entries taken from the thread's code tracker at start (0 when untracked). */
  seededCode: number;
  /**
   * Distinct raw stacks (leaf pc, return addresses, frame slots, per code-event epoch) the
   * consumer thread merged the samples into while sampling: what the profile's memory grows with.
   */
  rawStacks: number;
  /** How many samples each fix changed: leaf frames added, interpreted frames recovered, pcs translated. */
  fixed: { leaf: number; frameless: number; remap: number };
  /**
   * Samples by how the stack memo served them: replayed (hits), walked by V8 and remembered
   * (learned), walked by V8 but not expressible from the frame chain (unmapped), walked by V8
   * because the pc was outside JavaScript code or a frame was being built (bypassed); in check
   * mode, replays that differed from V8's answer (mismatches, the first described).
   */
  stackMemo: {
    hits: number;
    learned: number;
    unmapped: number;
    bypassed: number;
    mismatches: number;
    firstMismatch?: string;
  };
}

/** A sampler of the calling thread (main or Worker). One running sampler per thread. */
export declare class Sampler {
  constructor(options: SamplerOptions);
  /** Throws `{ code: 'ERR_PROFILE_RUNNING' }` if this thread is already sampled, `{ errno, syscall }` if the trigger cannot open. */
  start(): void;
  /** Stops (idempotent), drains and symbolizes. */
  stop(): RawProfile;
  samples(): number;
  /** Samples known dropped: ring full, signal queue overflow, and periods the clock helper could not signal. */
  lost(): number;
  /** CPU time (ns) the clockHelper thread has used so far (its total once stopped); 0 for other triggers. */
  helperCpuNs(): number;
}

/** Counting-mode perf event group on the calling thread. */
export declare class Counters {
  constructor(events: PerfEventSel[]);
  start(): void;
  /** Totals per event, in order. */
  stop(): number[];
}

/** See Binding.scriptLines. */
export interface ScriptLines {
  name: string;
  sourceUrl: string;
  lines: Int32Array;
}

export interface Binding {
  Sampler: typeof Sampler;
  Counters: typeof Counters;
  /** errno of opening the event on this thread (0: usable). */
  probe(type: number, config: number | bigint, kernel: boolean, precise?: number): number;
  /** errno of creating a thread CPU-time timer (0: usable). */
  probeTimer(): number;
  signal: number;
  /** CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in ns. */
  threadCpuNs(): bigint;
  /**
   * Starts following this thread's code events until the thread ends (idempotent), so a sampler
   * started later names code optimized before it (V8 >= 12 does not report existing optimized
   * code at start). Call before the code to be profiled warms up.
   */
  trackCode(): boolean;
  trackingCode(): boolean;
  /**
   * The calling thread's isolate as V8 prints it in per-isolate log file names
   * (`isolate-0x5581e0c2a000-<pid>-v8.log`), to find this thread's code log.
   */
  isolateAddress(): string;
  /**
   * Script `id` (V8's script id, as the code log gives it) of this thread's tracked code: its
   * name and source URL, and for each script offset its 1-based line and column as pairs, script
   * offsets included (line 0 when out of range; a first-line column may be 0 or less when the
   * script was compiled with a negative column offset). Undefined when the script is unknown (never in a code event since
   * trackCode) or already collected.
   */
  scriptLines(id: number, offsets: Int32Array): ScriptLines | undefined;
  /** Names of RawFrame kinds, by kind number (src/names.h). */
  frameKinds: readonly FrameKind[];
  /** Names of RawStack.vmState values (v8::StateTag), by value. */
  vmStates: readonly string[];
  /**
   * The interpreter-frame slots the frameless fix reads, as compiled for this V8 (src/interpreter_frame.h):
   * `verified: false` (an unchecked V8) leaves that fix off.
   */
  frameLayout: {
    v8: string;
    verified: boolean;
    bytecodeArrayFromFp: number;
    bytecodeOffsetFromFp: number;
    bytecodeHeader: number;
  };
}

/** Which addon loaded: a local source build, or the prebuilt binary the package carries; `file` is its path. */
export type Status =
  { ok: true; binding: Binding; source: 'build' | 'prebuilt'; file: string } | { ok: false; reason: string };
/** Loads the addon once; never throws. */
export declare function status(): Status;
export declare const signal: number | undefined;
