/**
 * The event catalog: every name `event=` accepts, named as `perf list` names them, with what a
 * sample of it measures in pprof terms and how perf_event_open selects it.
 */
export type EventKind = 'hardware' | 'software' | 'raw' | 'timer' | 'cputime' | 'v8' | 'auto';

/** perf_event_attr.type values (linux/perf_event.h). */
export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;
export const PERF_TYPE_RAW = 4;

export interface EventSpec {
  /** The name as the user writes it (`cycles`, `task-clock`, `r01c2`, `timer`, `v8`, `auto`). */
  readonly name: string;
  readonly kind: EventKind;
  /** Clock events take `rate` in Hz; count events take it as a period (events between samples). */
  readonly clock: boolean;
  /** pprof ValueType of the event's sample column. */
  readonly sampleType: { readonly type: string; readonly unit: string };
  /** perf_event_attr type/config, for events the native engine opens. */
  readonly perf?: { readonly type: number; readonly config: bigint };
  /** Default rate (Hz) or period; odd values avoid lockstep with periodic work. */
  readonly defaultRate: number;
  /** Smallest period (count events) or largest rate in Hz (clock events) we allow; beyond it we clamp. */
  readonly limit: number;
}

const cpu = { type: 'cpu', unit: 'nanoseconds' } as const;
const counted = (name: string) => ({ type: name, unit: 'count' });

function hw(name: string, config: number, defaultRate: number, limit: number): EventSpec {
  return {
    name,
    kind: 'hardware',
    clock: false,
    sampleType: counted(name),
    perf: { type: PERF_TYPE_HARDWARE, config: BigInt(config) },
    defaultRate,
    limit,
  };
}
function sw(name: string, config: number, clock: boolean, defaultRate: number, limit: number): EventSpec {
  return {
    name,
    kind: 'software',
    clock,
    sampleType: clock ? cpu : counted(name),
    perf: { type: PERF_TYPE_SOFTWARE, config: BigInt(config) },
    defaultRate,
    limit,
  };
}

/** Fastest clock rate the native engine accepts (Hz): 20 µs between samples. */
export const MAX_NATIVE_HZ = 50_000;
/** Fastest rate V8's sampler is asked for (Hz): it cannot deliver much above ~7k anyway. */
export const MAX_V8_HZ = 20_000;

/** Every named event. Hardware config numbers are PERF_COUNT_HW_*, software PERF_COUNT_SW_*. */
export const EVENTS: readonly EventSpec[] = [
  hw('cycles', 0, 2_000_003, 10_000),
  hw('instructions', 1, 2_000_003, 10_000),
  hw('cache-references', 2, 100_003, 1_000),
  hw('cache-misses', 3, 10_007, 100),
  hw('branch-instructions', 4, 1_000_003, 10_000),
  hw('branch-misses', 5, 10_007, 100),
  hw('bus-cycles', 6, 100_003, 1_000),
  hw('ref-cycles', 9, 2_000_003, 10_000),
  sw('cpu-clock', 0, true, 997, MAX_NATIVE_HZ),
  sw('task-clock', 1, true, 997, MAX_NATIVE_HZ),
  sw('page-faults', 2, false, 97, 1),
  sw('context-switches', 3, false, 1, 1),
  sw('cpu-migrations', 4, false, 1, 1),
  sw('minor-faults', 5, false, 97, 1),
  sw('major-faults', 6, false, 1, 1),
  { name: 'timer', kind: 'timer', clock: true, sampleType: cpu, defaultRate: 997, limit: MAX_NATIVE_HZ },
  // This thread's CPU time, watched from another core by a helper thread that signals it once
  // per period (native/src/clock_helper.cc): cheaper for the sampled thread than task-clock,
  // dearer for the machine (docs/PERFORMANCE.md: thread-cputime).
  {
    name: 'thread-cputime',
    kind: 'cputime',
    clock: true,
    sampleType: cpu,
    defaultRate: 997,
    limit: MAX_NATIVE_HZ,
  },
  {
    name: 'v8',
    kind: 'v8',
    clock: true,
    sampleType: { type: 'wall', unit: 'nanoseconds' },
    defaultRate: 997,
    limit: MAX_V8_HZ,
  },
  { name: 'auto', kind: 'auto', clock: true, sampleType: cpu, defaultRate: 997, limit: MAX_NATIVE_HZ },
];

const byName = new Map(EVENTS.map((e) => [e.name, e]));

/** Names for "did you mean" hints and `perfprofile events`. */
export const EVENT_NAMES: readonly string[] = EVENTS.map((e) => e.name);

const RAW = /^r([0-9a-f]{1,16})$/i;

/** The spec for a name, including raw `r<hex>` events; undefined when the name is unknown. */
export function lookupEvent(name: string): EventSpec | undefined {
  const known = byName.get(name);
  if (known) return known;
  const raw = RAW.exec(name);
  if (!raw) return undefined;
  const lower = name.toLowerCase();
  return {
    name: lower,
    kind: 'raw',
    clock: false,
    sampleType: counted(lower),
    perf: { type: PERF_TYPE_RAW, config: BigInt('0x' + raw[1]) },
    defaultRate: 100_003,
    limit: 100,
  };
}

/** True when the event is opened through perf_event_open (and so can be grouped and counted). */
export function isPerfEvent(e: EventSpec): boolean {
  return e.perf !== undefined;
}
