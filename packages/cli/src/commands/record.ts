/**
 * `perfprofile record`: runs a Node script with core's record preload and passes its exit code
 * through. With a native source it also starts node with V8's code log (in a temporary
 * directory, removed afterwards), so frames in optimized code name the functions inlined there.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProfileError, formatConfig, inlineLaunch, isProfileError, parseConfig, resolveRun } from '@perfprofile/core';
import { parseArgs } from '../args.js';

export const summary = 'run a Node script with its main thread profiled, write a pprof';
export const usage = `usage: perfprofile record [-o cpu.pb.gz] [--config "<event=... rate=...>"] -- <script.js> [args...]

Runs the script in a child Node with the profiler preloaded (--import), from start to exit, and
writes a gzipped pprof. The script's exit code is passed through. A bad config exits 2 before
the script starts. Native events also run node with V8's code log (written from the profile's
start, in a temporary directory removed afterwards): frames then name the functions V8 inlined
at each pc.
Open the result with: go tool pprof -http=:8080 cpu.pb.gz

options:
  -o, --output <file>   where to write the profile (default ./cpu.pb.gz)
  -c, --config <cfg>    profile config, e.g. "event=task-clock rate=1000" (see perfprofile events)
  -q, --quiet           do not print the one-line summary on stderr`;

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('record', argv, [
    { name: 'output', short: 'o', type: 'string' },
    { name: 'config', short: 'c', type: 'string' },
    { name: 'quiet', short: 'q', type: 'boolean' },
  ]);
  if (args.flags.help) {
    console.log(usage);
    return 0;
  }
  const script = [...args.positionals, ...args.rest];
  if (script.length === 0)
    throw new ProfileError('ERR_USAGE', 'record: no script given', 'write perfprofile record -- script.js [args]');
  const config = parseConfig(args.flags.config as string | undefined);
  if (isProfileError(config)) throw config;
  const resolved = resolveRun(config);
  if (isProfileError(resolved)) throw resolved;
  for (const w of resolved.warnings) process.stderr.write(`perfprofile: warning: ${w}\n`);
  const out = path.resolve((args.flags.output as string | undefined) ?? 'cpu.pb.gz');
  const preload = pathToFileURL(createRequire(import.meta.url).resolve('@perfprofile/core/record')).href;
  // V8's CpuProfiler (event=v8) silences the code log while it runs: native sources only.
  const logDir = resolved.source === 'v8' ? undefined : mkdtempSync(path.join(tmpdir(), 'perfprofile-v8log-'));
  const launch = logDir ? inlineLaunch(logDir) : undefined;
  const removeLogs = () => {
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  };
  const child = spawn(process.execPath, [...(launch?.execArgv ?? []), '--import', preload, ...script], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ...launch?.env,
      PERFPROFILE_RECORD_OUT: out,
      PERFPROFILE_RECORD_CONFIG: formatConfig(config),
      PERFPROFILE_RECORD_STATS: args.flags.quiet ? '' : '1',
    },
  });
  // The child gets terminal signals itself; we only wait for it.
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  return new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      removeLogs();
      resolve(
        code ?? 128 + (signal ? (({ SIGINT: 2, SIGTERM: 15, SIGKILL: 9 } as Record<string, number>)[signal] ?? 1) : 1),
      );
    });
    child.on('error', (e) => {
      removeLogs();
      process.stderr.write(`perfprofile: record: cannot start node: ${e.message}\n`);
      resolve(2);
    });
  });
}
