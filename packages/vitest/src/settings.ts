/**
 * The plugin's settings: where they come from, their validation, the output directory made ready.
 *
 * Sources are bin flags, `--` arguments, plugin options and env. The config is parsed and the
 * event probed once, in the main process, before any worker starts; the output directory is
 * created and proven writable.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  formatConfig,
  parseConfig,
  resolveCounters,
  resolveRun,
  ProfileError,
  isProfileError,
  type ProfileConfig,
  type ResolvedCounters,
  type ResolvedRun,
} from '@perfprofile/core';
import { RECORDS_DIR } from './protocol.js';

/** What the user asked for: an output directory and a config string. */
export interface PerfprofileRequest {
  out?: string;
  config?: string;
}

export const OUT_FLAG = '--perfprofile';
export const CONFIG_FLAG = '--perfprofileconfig';

/**
 * Removes `--perfprofile <dir>` / `--perfprofile=<dir>` and `--perfprofileconfig <cfg>` /
 * `--perfprofileconfig=<cfg>` from argv; everything else is returned untouched, in order.
 */
export function extractFlags(argv: readonly string[]): { request: PerfprofileRequest; rest: string[] } | ProfileError {
  const request: PerfprofileRequest = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = [OUT_FLAG, CONFIG_FLAG].find((f) => a === f || a.startsWith(`${f}=`));
    if (!flag) {
      rest.push(a);
      continue;
    }
    let value: string | undefined;
    if (a.length > flag.length) value = a.slice(flag.length + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (flag === OUT_FLAG && value.startsWith('--'))) {
        return new ProfileError(
          'ERR_USAGE',
          `${flag} needs a value`,
          flag === OUT_FLAG ? `${OUT_FLAG} perf.out` : `${CONFIG_FLAG} "event=v8 rate=1000"`,
        );
      }
      i++;
    }
    if (flag === OUT_FLAG) {
      if (value === '') return new ProfileError('ERR_USAGE', `${OUT_FLAG} needs a directory`, `${OUT_FLAG} perf.out`);
      request.out = value;
    } else request.config = value;
  }
  return { request, rest };
}

/** The request from `vitest bench -- --perfprofile ...` (arguments after `--`), if any. */
export function requestFromDashArgs(argv: readonly string[] = process.argv): PerfprofileRequest | ProfileError {
  const dash = argv.indexOf('--');
  if (dash < 0) return {};
  const r = extractFlags(argv.slice(dash + 1));
  return isProfileError(r) ? r : r.request;
}

/** The request from `VITEST_PERFPROFILE` / `VITEST_PERFPROFILECONFIG`. */
export function requestFromEnv(env: NodeJS.ProcessEnv = process.env): PerfprofileRequest {
  return { out: env.VITEST_PERFPROFILE || undefined, config: env.VITEST_PERFPROFILECONFIG || undefined };
}

/** Field by field, the first request that sets it wins. */
export function mergeRequests(...requests: PerfprofileRequest[]): PerfprofileRequest {
  const out: PerfprofileRequest = {};
  for (const r of requests) {
    out.out ??= r.out;
    out.config ??= r.config;
  }
  return out;
}

/** A validated, probed request: what the main process and the workers run with. */
export interface ResolvedSettings {
  readonly out: string;
  readonly config: ProfileConfig;
  readonly configText: string;
  readonly run: ResolvedRun;
  /** Per-op counters that can be read here, and why others were left out. */
  readonly counters: ResolvedCounters;
}

/** Parses and probes the config; no side effects. An absent `out` is not an error here. */
export function resolveRequest(
  request: PerfprofileRequest & { out: string },
  root: string,
): ResolvedSettings | ProfileError {
  const config = parseConfig(request.config);
  if (isProfileError(config)) return config;
  const run = resolveRun(config);
  if (isProfileError(run)) return run;
  return {
    out: path.resolve(root, request.out),
    config,
    configText: formatConfig(config),
    run,
    counters: resolveCounters(config),
  };
}

/**
 * `mkdir -p` that always ends: Node's `mkdirSync(dir, { recursive: true })` spins forever on a
 * path under /proc (procfs answers ENOENT for a child of a directory that exists). Creates the
 * missing directories top-down and throws the first error as it is.
 */
export function makeDirectories(dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d); d = path.dirname(d)) {
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/**
 * Creates the output directory, proves it writable, and clears what a previous run left there
 * (the files its index.json lists, stale records). Fails with ERR_IO before any benchmark runs.
 */
export function prepareOutput(out: string): ProfileError | undefined {
  try {
    makeDirectories(out);
    const probe = path.join(out, `.perfprofile-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return new ProfileError(
      'ERR_IO',
      `output directory ${out} is not writable (${code})`,
      'pass a writable directory to --perfprofile',
    );
  }
  const index = path.join(out, 'index.json');
  if (existsSync(index)) {
    try {
      const old = JSON.parse(readFileSync(index, 'utf8')) as { benchmarks?: { profile?: string }[] };
      for (const b of old.benchmarks ?? [])
        if (b.profile && !b.profile.includes('/') && b.profile.endsWith('.pb.gz'))
          rmSync(path.join(out, b.profile), { force: true });
      rmSync(path.join(out, 'merged.pb.gz'), { force: true });
      rmSync(index, { force: true });
    } catch {
      // An unreadable old index is left alone; it is replaced at the end of the run.
    }
  }
  rmSync(path.join(out, RECORDS_DIR), { recursive: true, force: true });
  return undefined;
}
