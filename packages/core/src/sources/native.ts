/**
 * The seam to @perfprofile/native. Until the native engine lands, it reports itself unavailable
 * with a reason, and every native event is "not built yet".
 */
import type { EventSpec } from '../events.js';
import type { SampleSource, SourceSettings } from './source.js';

export interface NativeEngine {
  /** Opens and closes the event on this thread; undefined when usable, else why not. */
  probe(event: EventSpec, kernel: boolean): string | undefined;
  /** A sampler for this thread: perf_event overflow, or the thread CPU-time timer for `timer`. */
  createSource(settings: SourceSettings): SampleSource;
}

export type NativeStatus = { readonly ok: true; readonly engine: NativeEngine } | { readonly ok: false; readonly reason: string };

/** Whether the native engine is loaded here, and why not when it is not. */
export function nativeStatus(): NativeStatus {
  return { ok: false, reason: 'native engine not built yet' };
}
