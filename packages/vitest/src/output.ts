/**
 * The run's output files, written by the main process at the end: merged.pb.gz and index.json.
 *
 * Gathers the records workers left, writes `merged.pb.gz` (every sample labeled
 * `benchmark=<full name>`) and `index.json`, atomically.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  decode,
  encode,
  heapCounter,
  merge,
  writeAtomic,
  type IndexFile,
  type MissingBenchmark,
  type Profile,
} from '@perfprofile/core';
import { RECORDS_DIR, type BenchmarkRecord, type RunningMarker } from './protocol.js';
import type { ResolvedSettings } from './settings.js';
import { OutputWriteError, writeFailureReason } from './writefail.js';

export type { IndexFile, MissingBenchmark };

/** index.json could not be written: the index as it would have been, for the summary. */
export class IndexWriteError extends OutputWriteError {
  constructor(
    readonly index: IndexFile,
    reason: string,
    cause: unknown,
  ) {
    super('index.json', reason, cause);
  }
}

/** How a run ended, as far as index.json records it. */
export interface RunEnd {
  readonly complete: boolean;
  readonly missing?: readonly MissingBenchmark[];
  readonly interrupted?: string;
}

/** A benchmark that has started and not finished, with its profile's sample count so far. */
export interface RunningBenchmark extends RunningMarker {
  /** Set in the profiled pass of a native source (rewritten every 250 ms); undefined otherwise. */
  readonly samples: number | undefined;
}

/** Benchmarks started and not finished right now (one per busy worker), by id. */
export function readRunning(out: string): RunningBenchmark[] {
  const dir = path.join(out, RECORDS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.running'))
      .sort();
  } catch {
    return [];
  }
  const running: RunningBenchmark[] = [];
  for (const n of names) {
    const id = n.slice(0, -'.running'.length);
    let marker: RunningMarker;
    try {
      marker = JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as RunningMarker;
    } catch {
      continue; // finished between listing and reading
    }
    let samples: number | undefined;
    if (marker.phase === 'profiled') {
      try {
        const text = readFileSync(path.join(dir, `${id}.progress`), 'utf8').trim();
        samples = /^\d+$/.test(text) ? Number(text) : undefined;
      } catch {
        samples = undefined; // v8 source, or not written yet
      }
    }
    running.push({ file: marker.file, fullName: marker.fullName, phase: marker.phase, samples });
  }
  return running;
}

/** The records workers wrote so far, in no particular order. */
export function readRecords(out: string): BenchmarkRecord[] {
  const dir = path.join(out, RECORDS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const records: BenchmarkRecord[] = [];
  for (const n of names) {
    try {
      records.push(JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as BenchmarkRecord);
    } catch {
      // A record being renamed into place is complete or absent; anything else is skipped.
    }
  }
  return records;
}

/**
 * Removes the records directory, then writes merged.pb.gz and index.json for `records` (in the
 * order given). `end.complete` is the caller's verdict (every selected benchmark finished).
 * A merged.pb.gz that cannot be written is left out (`merged: null`, `complete: false`, the
 * reason in `errors`, or removed to make room for index.json); an index.json that cannot be
 * written throws an {@link IndexWriteError}. Neither leaves a temp file.
 */
export function writeOutput(
  settings: ResolvedSettings,
  records: readonly BenchmarkRecord[],
  end: RunEnd,
  vitestVersion: string,
): IndexFile {
  let complete = end.complete && !end.missing?.length && !end.interrupted;
  const { out, run } = settings;
  // The records are read; removing them first frees their space for index.json (full disk).
  rmSync(path.join(out, RECORDS_DIR), { recursive: true, force: true });
  const errors: string[] = [];
  /**
   * `<name>` merged from the profiles `files` lists (each labeled with its benchmark already);
   * null when there are none or it cannot be written (the reason in `errors`): the
   * per-benchmark profiles are the results, and the small index.json may still fit.
   */
  const mergeInto = (name: string, files: readonly (string | undefined)[]): string | null => {
    const profiles: Profile[] = [];
    for (const f of files) {
      try {
        if (f) profiles.push(decode(readFileSync(path.join(out, f))));
      } catch {
        complete = false;
      }
    }
    if (!profiles.length) return null;
    try {
      writeAtomic(path.join(out, name), encode(merge(profiles)));
      return name;
    } catch (e) {
      complete = false;
      errors.push(`${name} not written: ${writeFailureReason(out, e)}`);
      return null;
    }
  };
  let merged = mergeInto(
    'merged.pb.gz',
    records.map((r) => r.profile),
  );
  const alloc = settings.config.alloc;
  let mergedAlloc = alloc
    ? mergeInto(
        'merged.alloc.pb.gz',
        records.map((r) => r.allocProfile),
      )
    : null;
  const first = records[0]?.run;
  const index = (): IndexFile => ({
    schema: 1,
    config: {
      text: settings.configText,
      event: first?.event ?? run.events[0].name,
      events: run.events.map((e) => e.name),
      rate: first?.rate ?? run.rate,
      period: first?.period ?? run.period,
      source: first?.source ?? run.source,
      reason: first?.reason ?? run.reason,
      baseline: settings.config.baseline,
      warnings: [
        ...new Set([...run.warnings, ...settings.counters.warnings, ...records.flatMap((r) => r.run.warnings)]),
      ],
      heapCounter: heapCounter(),
      ...(alloc ? { alloc } : {}),
    },
    node: process.version,
    vitest: vitestVersion,
    complete,
    ...(end.interrupted ? { interrupted: end.interrupted } : {}),
    benchmarks: records.map(({ run: _run, ...rest }) => rest),
    missing: end.missing ?? [],
    merged,
    ...(alloc ? { mergedAlloc } : {}),
    ...(errors.length ? { errors: [...errors] } : {}),
  });
  const write = (i: IndexFile) => writeAtomic(path.join(out, 'index.json'), JSON.stringify(i, null, 2) + '\n');
  try {
    let written = index();
    try {
      write(written);
    } catch (e) {
      // index.json says what the profiles are: it outranks merged.pb.gz, which can be rebuilt
      // from them (`perfprofile merge`). Remove that and try once more.
      if (merged === null && mergedAlloc === null) throw e;
      for (const name of [merged, mergedAlloc]) {
        if (name === null) continue;
        rmSync(path.join(out, name), { force: true });
        errors.push(`${name} removed to make room for index.json: ${writeFailureReason(out, e)}`);
      }
      merged = null;
      mergedAlloc = null;
      complete = false;
      written = index();
      write(written);
    }
    return written;
  } catch (e) {
    throw new IndexWriteError(index(), writeFailureReason(out, e), e);
  }
}
