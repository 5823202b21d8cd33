/**
 * Memory accounting around a stretch of code on the calling thread, from GC callbacks: the JS
 * heap it allocated as V8 counts it, the external memory it allocated (ArrayBuffer backing
 * stores, external strings), and the garbage collections it paid for.
 *
 * GC callbacks are Node's `v8.GCProfiler`: its prologue/epilogue callbacks record the heap
 * statistics before and after every collection, in C++, without allocating on the JS heap
 * while the window is open. Heap bytes come from V8's own allocation counter where
 * `v8.getHeapStatistics()` has one (`total_allocated_bytes`, Node >= 25), else from GC
 * accounting: the used-heap delta plus what each collection freed. Either count includes the
 * filler V8 leaves at the end of a new-space page when the next object does not fit; V8's
 * counter also counts allocation buffers whole (Node 26: +4% for 48 B objects, GC accounting +0.7%).
 */
import v8 from 'node:v8';
import { collectGarbage } from './alloc.js';

/** How a window's heap bytes were counted. */
export type HeapCounter = 'total_allocated_bytes' | 'gc-accounting';

/** What a window allocated and collected, in totals. */
export interface MemoryTotals {
  /** JS heap allocated, as V8 counts it (see {@link HeapCounter}). */
  readonly heapBytes: number;
  /** External memory allocated (ArrayBuffer backing stores...); exact only with `exactExternal`. */
  readonly externalBytes: number;
  /** Collections: scavenges and mark-compacts (incremental marking steps are not counted). */
  readonly gcCount: number;
  /** Main-thread time in GC callbacks' brackets: every collection and incremental-marking pause. */
  readonly gcNanos: number;
  readonly heapCounter: HeapCounter;
}

/** Options of {@link startMemoryWindow}. */
export interface MemoryWindowOptions {
  /**
   * Make ArrayBuffer sweeping synchronous while the window is open, so the backing stores a
   * collection frees are subtracted inside the GC callbacks' brackets rather than later, on a
   * background thread, where no callback sees them. The window opens with a scavenge, which
   * finishes a background sweep an earlier collection left running: its frees otherwise landed
   * in the window, outside every bracket (17% of the bytes in a Vitest worker, Node 20 and 24).
   * (A full GC would do it too, but the window's heap bytes then read 7-10% high.)
   * It moves that work into GC pauses: use it outside a timed pass.
   */
  readonly exactExternal?: boolean;
  /** Count heap bytes this way even where V8 has its own counter (GC accounting is the exacter). */
  readonly heapCounter?: HeapCounter;
}

interface GcHeapStats {
  readonly usedHeapSize: number;
  readonly externalMemory: number;
}

interface GcEntry {
  readonly gcType: string;
  readonly cost: number;
  readonly beforeGC: { readonly heapStatistics: GcHeapStats };
  readonly afterGC: { readonly heapStatistics: GcHeapStats };
}

interface GcProfilerLike {
  start(): void;
  stop(): { statistics: GcEntry[] } | undefined;
}

/** Collection types: GCProfiler names them after v8::GCType. */
const COLLECTIONS = new Set(['Scavenge', 'MinorMarkSweep', 'MinorMarkCompact', 'MarkSweepCompact']);

/**
 * A GC that starts after the final read of the heap statistics was set off by that read's own
 * result object; it finds the heap at the read's level plus that object, and external memory
 * at the read's level exactly. Such a GC is left out: counting what it freed would count it
 * twice. (A GC inside the window that external allocation set off can meet the heap condition
 * by chance: its external level differs.)
 */
const AFTER_READ_SLACK = 4096;

type Reading = { used: number; external: number; allocated: number | undefined };

function read(): Reading {
  const s = v8.getHeapStatistics() as v8.HeapInfo & { total_allocated_bytes?: number };
  return {
    used: s.used_heap_size,
    external: s.external_memory,
    allocated: typeof s.total_allocated_bytes === 'number' ? s.total_allocated_bytes : undefined,
  };
}

/** The heap counter this Node offers: V8's own where getHeapStatistics() has it. */
export function heapCounter(): HeapCounter {
  return read().allocated !== undefined ? 'total_allocated_bytes' : 'gc-accounting';
}

/** Whether GC callbacks are available here (`v8.GCProfiler`: Node >= 18.15). */
export function memoryAccounting(): boolean {
  return typeof (v8 as { GCProfiler?: unknown }).GCProfiler === 'function';
}

/**
 * Opens a window on this thread; the returned function closes it and returns its totals.
 * Undefined when GC callbacks are not available. Windows may not nest on one thread if
 * `exactExternal` is set (the flag is global).
 */
export function startMemoryWindow(options: MemoryWindowOptions = {}): (() => MemoryTotals) | undefined {
  if (!memoryAccounting()) return undefined;
  const Profiler = (v8 as unknown as { GCProfiler: new () => GcProfilerLike }).GCProfiler;
  if (options.exactExternal) {
    v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
    collectGarbage('minor');
  }
  const profiler = new Profiler();
  // Started before the first read: a GC set off by that read's result object is then recorded
  // and its freed bytes counted against a level read before it.
  profiler.start();
  const start = read();
  return () => {
    const end = read();
    const entries = profiler.stop()?.statistics ?? [];
    if (options.exactExternal) v8.setFlagsFromString('--concurrent-array-buffer-sweeping');
    const last = entries[entries.length - 1];
    if (
      last &&
      last.beforeGC.heapStatistics.usedHeapSize - end.used >= 0 &&
      last.beforeGC.heapStatistics.usedHeapSize - end.used < AFTER_READ_SLACK &&
      last.beforeGC.heapStatistics.externalMemory === end.external
    )
      entries.pop();
    let freedHeap = 0;
    let freedExternal = 0;
    let gcCount = 0;
    let gcMicros = 0;
    for (const e of entries) {
      freedHeap += e.beforeGC.heapStatistics.usedHeapSize - e.afterGC.heapStatistics.usedHeapSize;
      freedExternal += e.beforeGC.heapStatistics.externalMemory - e.afterGC.heapStatistics.externalMemory;
      if (COLLECTIONS.has(e.gcType)) gcCount++;
      gcMicros += e.cost;
    }
    const counted =
      options.heapCounter !== 'gc-accounting' && start.allocated !== undefined && end.allocated !== undefined;
    return {
      heapBytes: counted ? end.allocated! - start.allocated! : end.used - start.used + freedHeap,
      externalBytes: Math.max(0, end.external - start.external + freedExternal),
      gcCount,
      gcNanos: Math.round(gcMicros * 1000),
      heapCounter: counted ? 'total_allocated_bytes' : 'gc-accounting',
    };
  };
}
