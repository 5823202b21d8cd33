/**
 * The seam to @perfprofile/native. The addon is optional: when it cannot be built or loaded
 * (non-Linux, no compiler, wrong Node ABI) {@link nativeStatus} says why, and only `event=v8`
 * works. The engine is loaded once, on first use.
 */
import { createRequire } from 'node:module';
// Types only: the package may be missing at runtime (then require() below throws).
import type { Status } from '@perfprofile/native';
import type { EventSpec } from '../events.js';
import type { SampleSource, SourceSettings } from './source.js';
import { createEngine, nativePlatform, type NativeCounters } from './native-engine.js';

export type { NativeCounters } from './native-engine.js';
export { simulatePlatform } from './native-engine.js';

export interface NativeEngine {
  /** Opens and closes the event on this thread; undefined when usable, else why not. */
  probe(event: EventSpec, kernel: boolean): string | undefined;
  /**
   * A sampler for this thread: perf_event overflow, or the thread CPU-time timer for `timer`.
   * Frames come leaf first; a stack deeper than `depth` keeps its innermost `depth - 1` frames
   * and ends in a `{ kind: 'truncated', name: '(truncated N frames)' }` frame, as truncate() does.
   * Starting a second one on a thread that is already sampled throws ERR_PROFILE_RUNNING.
   */
  createSource(settings: SourceSettings): SampleSource;
  /**
   * Counting-mode perf events on this thread (no sampling, no signals): `stop()` returns the
   * totals per event name since `start()`, e.g. `{ 'task-clock': 1.2e9, 'page-faults': 310 }`
   * (task-clock in ns). Divide by ops for `<event>/op`. Events must be perf events.
   */
  createCounters(events: readonly EventSpec[]): NativeCounters;
  /**
   * Starts following this thread's code (idempotent, until the thread ends), so that a source
   * started later names code optimized before it: since V8 12 (Node 22) the code V8 reports at
   * a source's start omits existing optimized code. Call it before the profiled code warms up.
   */
  trackCode(): void;
}

export type NativeStatus =
  { readonly ok: true; readonly engine: NativeEngine } | { readonly ok: false; readonly reason: string };

let status: NativeStatus | undefined;

/** Whether the native engine is loaded here, and why not when it is not. */
export function nativeStatus(): NativeStatus {
  if (nativePlatform() !== 'linux') return { ok: false, reason: 'Linux only' };
  if (status) return status;
  try {
    const require = createRequire(import.meta.url);
    const native = require('@perfprofile/native') as { status(): Status };
    const s = native.status();
    status = s.ok ? { ok: true, engine: createEngine(s.binding) } : { ok: false, reason: s.reason };
  } catch (e) {
    status = { ok: false, reason: `@perfprofile/native is not installed (${(e as Error).message.split('\n')[0]})` };
  }
  return status;
}
