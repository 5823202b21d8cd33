#!/usr/bin/env node
/**
 * The `vitest-perf` bin: `vitest-perf bench [vitest args] --perfprofile <dir> [--perfprofileconfig "<...>"]`.
 *
 * Strips its two flags, validates them (one line and exit 2 on a bad config, before anything
 * runs), and starts Vitest's benchmark mode programmatically with the plugin added. Every other
 * argument, the output and the exit code are Vitest's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatError, isProfileError, ProfileError } from '@perfprofile/core';
import { extractFlags, requestFromEnv, mergeRequests, resolveRequest, CONFIG_FLAG, OUT_FLAG } from './settings.js';
import { perfprofile, type InternalOptions } from './plugin.js';
import { adapterFor } from './adapter.js';
import { restartUnderV8Log, RestartUnderV8Log } from './v8log.js';

const RUNS_FLAG = '--perfprofile-runs';

const HELP = `Usage: vitest-perf bench [vitest bench options and filters] ${OUT_FLAG} <dir> [${CONFIG_FLAG} "<event=... rate=...>"] [${RUNS_FLAG} <n>]

Runs \`vitest bench\` with per-benchmark CPU profiles:
  ${OUT_FLAG} <dir>          write <dir>/<bench-id>.pb.gz per benchmark, merged.pb.gz and index.json
                               (also ${OUT_FLAG}=<dir>; env VITEST_PERFPROFILE)
  ${CONFIG_FLAG} "<cfg>"  profiler config, e.g. "event=v8 rate=1000 baseline=on"
                               (keys: event rate kernel precise depth fallback baseline counters;
                               env VITEST_PERFPROFILECONFIG)
  ${RUNS_FLAG} <n>    run the whole suite n times, each in fresh processes (the JIT decides
                               anew each time): run 1 into <dir>, run k into <dir>/run-k, listed in
                               <dir>/index.json "repeats"; perfprofile check reads them all

Every other argument is Vitest's (see \`vitest bench --help\`), and so is the exit code.
Bad profiler config: one line on stderr, exit code 2, nothing runs.`;

/**
 * `vitest/node` of the project in `cwd` — the Vitest its config, plugin and workers run with,
 * whichever major — else the one this package resolves.
 */
async function projectVitest(cwd: string): Promise<typeof import('vitest/node')> {
  try {
    const pkgFile = createRequire(path.join(cwd, 'package.json')).resolve('vitest/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as {
      exports?: Record<string, { default?: string } | undefined>;
    };
    const entry = pkg.exports?.['./node']?.default;
    if (entry)
      return (await import(
        pathToFileURL(path.join(path.dirname(pkgFile), entry)).href
      )) as typeof import('vitest/node');
  } catch {
    // No Vitest of the project's own here: use ours.
  }
  return import('vitest/node');
}

/** `--perfprofile-runs <n>` taken out of argv: the count (1 when absent) and the other arguments. */
function takeRuns(argv: readonly string[]): { runs: number; rest: string[] } {
  const rest: string[] = [];
  let runs = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a !== RUNS_FLAG && !a.startsWith(`${RUNS_FLAG}=`)) {
      rest.push(a);
      continue;
    }
    const raw = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    runs = Number(raw);
    if (raw === undefined || !/^\d+$/.test(raw) || runs < 1 || runs > 100)
      usage(
        `${RUNS_FLAG} needs a whole number from 1 to 100, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
        `${RUNS_FLAG} 5`,
      );
  }
  return { runs, rest };
}

/**
 * Runs the suite `runs` times, each a child `vitest-perf` (fresh main process and workers): run 1
 * into `out`, run k into `out/run-k`; then lists the repeats in `out/index.json`. Stops at the
 * first run that fails, with its exit code, listing the repeats finished before it.
 */
function repeat(runs: number, out: string, args: readonly string[]): never {
  const dir = path.resolve(out);
  // Repeats left by an earlier invocation would otherwise sit beside this one's.
  if (existsSync(dir))
    for (const e of readdirSync(dir))
      if (/^run-\d+$/.test(e) && existsSync(path.join(dir, e, 'index.json')))
        rmSync(path.join(dir, e), { recursive: true, force: true });
  process.on('SIGINT', () => {}); // the child handles it and exits 130; we stop after it
  process.on('SIGTERM', () => {});
  const done: string[] = [];
  let status = 0;
  for (let k = 1; k <= runs && status === 0; k++) {
    const target = k === 1 ? dir : path.join(dir, `run-${k}`);
    process.stderr.write(`vitest-perf: run ${k} of ${runs} → ${target}\n`);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'bench', ...args, OUT_FLAG, target], {
      stdio: 'inherit',
    });
    status = r.status ?? 1;
    if (status === 0 && k > 1) done.push(`run-${k}`);
  }
  const indexFile = path.join(dir, 'index.json');
  if (existsSync(indexFile)) {
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(`${indexFile}.tmp`, JSON.stringify({ ...index, repeats: done }, null, 2) + '\n');
    renameSync(`${indexFile}.tmp`, indexFile);
  }
  process.exit(status);
}

function usage(message: string, hint?: string): never {
  process.stderr.write(`${formatError(new ProfileError('ERR_USAGE', message, hint), 'vitest-perf')}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (argv[0] !== 'bench') usage(`unknown command "${argv[0]}"`, 'run `vitest-perf bench ...`');
  const { runs, rest: args } = takeRuns(argv.slice(1));
  const extracted = extractFlags(args);
  if (isProfileError(extracted)) {
    process.stderr.write(`${formatError(extracted, 'vitest-perf')}\n`);
    process.exit(2);
  }
  const { request, rest } = extracted;
  if (rest.includes('--help') || rest.includes('-h')) process.stdout.write(`${HELP}\n\n`);
  const merged = mergeRequests(request, requestFromEnv());
  if (merged.out === undefined && merged.config !== undefined)
    usage(`${CONFIG_FLAG} needs ${OUT_FLAG} <dir> too`, `${OUT_FLAG} perf.out`);
  if (merged.out !== undefined) {
    // Validate before Vitest starts: a bad config must not run anything or create the directory.
    const settings = resolveRequest({ ...merged, out: merged.out }, process.cwd());
    if (isProfileError(settings)) {
      process.stderr.write(`${formatError(settings, 'vitest-perf')}\n`);
      process.exit(2);
    }
  }
  if (runs > 1) {
    if (merged.out === undefined)
      usage(`${RUNS_FLAG} needs ${OUT_FLAG} <dir> too`, `${OUT_FLAG} perf.out ${RUNS_FLAG} ${runs}`);
    repeat(runs, merged.out, request.config === undefined ? rest : [...rest, CONFIG_FLAG, request.config]);
  }
  const { parseCLI, startVitest, version } = await projectVitest(process.cwd());
  const adapter = adapterFor(version);
  if (adapter instanceof Error) usage(adapter.message);
  const { filter, options } = parseCLI(['vitest', 'bench', ...rest]);
  // As Vitest's own CLI does before starting.
  const argvOptions = options as Record<string, unknown>;
  if (argvOptions.exclude) {
    argvOptions.cliExclude = ([] as unknown[]).concat(argvOptions.exclude);
    delete argvOptions.exclude;
  }
  if (filter.some((f) => f.includes(':'))) argvOptions.includeTaskLocation ??= true;
  const plugin = perfprofile({ ...merged, fromCli: true } as InternalOptions);
  const mode = adapter.benchCommand(argvOptions);
  const ctx = await startVitest(mode as 'benchmark', filter.map(String), options, { plugins: [plugin] });
  if (!ctx.shouldKeepServer()) await ctx.exit();
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof RestartUnderV8Log) return restartUnderV8Log();
  if (isProfileError(e)) process.stderr.write(`${formatError(e, 'vitest-perf')}\n`);
  else console.error(e);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
