#!/usr/bin/env node
/**
 * The `vitest-perf` bin: `vitest-perf bench [vitest args] --perfprofile <dir> [--perfprofileconfig "<...>"]`.
 *
 * Strips its two flags, validates them (one line and exit 2 on a bad config, before anything
 * runs), and starts Vitest's benchmark mode programmatically with the plugin added. Every other
 * argument, the output and the exit code are Vitest's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatError, isProfileError, ProfileError } from '@perfprofile/core';
import { extractFlags, requestFromEnv, mergeRequests, resolveRequest, CONFIG_FLAG, OUT_FLAG } from './settings.js';
import { perfprofile, type InternalOptions } from './plugin.js';
import { adapterFor } from './adapter.js';
import { restartUnderV8Log, RestartUnderV8Log } from './v8log.js';

const HELP = `Usage: vitest-perf bench [vitest bench options and filters] ${OUT_FLAG} <dir> [${CONFIG_FLAG} "<event=... rate=...>"]

Runs \`vitest bench\` with per-benchmark CPU profiles:
  ${OUT_FLAG} <dir>          write <dir>/<bench-id>.pb.gz per benchmark, merged.pb.gz and index.json
                               (also ${OUT_FLAG}=<dir>; env VITEST_PERFPROFILE)
  ${CONFIG_FLAG} "<cfg>"  profiler config, e.g. "event=v8 rate=1000 baseline=on"
                               (keys: event rate kernel precise depth fallback baseline counters;
                               env VITEST_PERFPROFILECONFIG)

Every other argument is Vitest's (see \`vitest bench --help\`), and so is the exit code.
Bad profiler config: one line on stderr, exit code 2, nothing runs.`;

/**
 * `vitest/node` of the project in `cwd` — the Vitest its config, plugin and workers run with,
 * whichever major — else the one this package resolves.
 */
async function projectVitest(cwd: string): Promise<typeof import('vitest/node')> {
  try {
    const pkgFile = createRequire(path.join(cwd, 'package.json')).resolve('vitest/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, { default?: string } | undefined> };
    const entry = pkg.exports?.['./node']?.default;
    if (entry) return (await import(pathToFileURL(path.join(path.dirname(pkgFile), entry)).href)) as typeof import('vitest/node');
  } catch {
    // No Vitest of the project's own here: use ours.
  }
  return import('vitest/node');
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
  const extracted = extractFlags(argv.slice(1));
  if (isProfileError(extracted)) {
    process.stderr.write(`${formatError(extracted, 'vitest-perf')}\n`);
    process.exit(2);
  }
  const { request, rest } = extracted;
  if (rest.includes('--help') || rest.includes('-h')) process.stdout.write(`${HELP}\n\n`);
  const merged = mergeRequests(request, requestFromEnv());
  if (merged.out === undefined && merged.config !== undefined) usage(`${CONFIG_FLAG} needs ${OUT_FLAG} <dir> too`, `${OUT_FLAG} perf.out`);
  if (merged.out !== undefined) {
    // Validate before Vitest starts: a bad config must not run anything or create the directory.
    const settings = resolveRequest({ ...merged, out: merged.out }, process.cwd());
    if (isProfileError(settings)) {
      process.stderr.write(`${formatError(settings, 'vitest-perf')}\n`);
      process.exit(2);
    }
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
