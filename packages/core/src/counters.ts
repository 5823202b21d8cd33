/**
 * Per-op counters (`counters=`): the perf events counted, not sampled, around a benchmark's
 * measured pass, resolved against this machine and opened on the calling thread.
 */
import type { ProfileConfig } from './config.js';
import { lookupEvent, type EventSpec } from './events.js';
import { nativeStatus } from './sources/native.js';

/** The per-op counters a config asks for, narrowed to what counts here. */
export interface ResolvedCounters {
  /** Perf events to count, in order; empty when none can be counted here. */
  readonly events: readonly EventSpec[];
  /** One line per event left out, and why (also when the native engine is missing). */
  readonly warnings: readonly string[];
}

const DEFAULT_COUNTERS = ['task-clock', 'page-faults', 'context-switches'];
const PMU_COUNTERS = ['cycles', 'instructions'];

/**
 * `counters=` resolved on this machine: the default set (task-clock, page-faults,
 * context-switches, plus cycles and instructions when a PMU is usable) or the configured list;
 * unavailable events are dropped with a warning, never an error, since counters are extra.
 */
export function resolveCounters(config: ProfileConfig): ResolvedCounters {
  const native = nativeStatus();
  const asked = config.counters;
  if (asked?.length === 0) return { events: [], warnings: [] };
  if (!native.ok) return { events: [], warnings: [`per-op counters need the native engine: ${native.reason}`] };
  const warnings: string[] = [];
  let wanted: EventSpec[];
  if (asked) wanted = [...asked];
  else {
    wanted = DEFAULT_COUNTERS.map((n) => lookupEvent(n)!);
    const pmu = PMU_COUNTERS.map((n) => lookupEvent(n)!);
    if (pmu.every((e) => native.engine.probe(e, false) === undefined)) wanted.push(...pmu);
  }
  const events = wanted.filter((e) => {
    const why = native.engine.probe(e, false);
    if (why !== undefined) warnings.push(`counter ${e.name} left out: ${why}`);
    return why === undefined;
  });
  return { events, warnings };
}

/** Counting-mode perf events on the calling thread; undefined when there is nothing to count. */
export function createCounters(
  events: readonly EventSpec[],
): { start(): void; stop(): Record<string, number> } | undefined {
  const native = nativeStatus();
  if (!native.ok || events.length === 0) return undefined;
  return native.engine.createCounters(events);
}
