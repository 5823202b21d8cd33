/**
 * V8's code log, which gives the profiler the exact inline chains: the node flags on the command
 * lines perfprofile controls, the env var that tells a worker where its log is, the run's log
 * directory (swept and removed), and vitest-perf's restart under the flags.
 *
 * The flags only work on node's own command line (NODE_OPTIONS rejects them), so:
 * - forks pools (a node child per worker): the plugin adds them to the project's `execArgv`;
 * - threads pools (isolates of the main process): the main process itself must run with them.
 *   vitest-perf restarts itself under them when a benchmark project uses one; plain `vitest
 *   bench` cannot, and its threads get no inline chains.
 * Not with event=v8: V8's CpuProfiler silences the log while it runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isatty } from 'node:tty';
import type { TestProject } from 'vitest/node';
import { v8LogFlags, V8_LOG_ENV } from '@perfprofile/core';

const DIR_PREFIX = 'perfprofile-v8log-';
const LOG_NAME = 'v8.log';
/** `<dir>/isolate-<address>-<pid>-v8.log`: one file per isolate (V8's --logfile-per-isolate). */
const ISOLATE_LOG = /^isolate-0x[0-9a-f]+-(\d+)-v8\.log$/;
const LOG_DIR = new RegExp(`^${DIR_PREFIX}(\\d+)-`);
const SWEEP_MS = 2000;

/** The environment as this process started, before Vitest or a config file changed it. */
const startEnv = { ...process.env };

/** The log this process writes, when it was started with the flags (vitest-perf's restart). */
export function ownLogfile(): string | undefined {
  const logfile = process.env[V8_LOG_ENV];
  return logfile && process.execArgv.includes(`--logfile=${logfile}`) ? logfile : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the logs of processes that have exited (a forks worker's log is ~4 MB; one per test file). */
export function sweepLogs(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(ISOLATE_LOG.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * A new log directory for this run, removed when this process exits; directories left by runs
 * that were killed outright (their pid is in the name) are removed first.
 */
export function makeLogDir(): string {
  const root = tmpdir();
  try {
    for (const name of readdirSync(root)) {
      const pid = Number(LOG_DIR.exec(name)?.[1]);
      if (pid && !alive(pid)) rmSync(path.join(root, name), { recursive: true, force: true });
    }
  } catch {
    // An unreadable temp dir: nothing to sweep.
  }
  const dir = mkdtempSync(path.join(root, `${DIR_PREFIX}${process.pid}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let runLog: string | undefined;

/** The run's `--logfile`: this process's own, else one in a directory made on first use; swept while the run lasts. */
function runLogfile(): string {
  if (runLog) return runLog;
  const logfile = ownLogfile() ?? path.join(makeLogDir(), LOG_NAME);
  setInterval(() => sweepLogs(path.dirname(logfile)), SWEEP_MS).unref();
  return (runLog = logfile);
}

/** Thrown from the plugin to vitest-perf: a threads-pool project needs the main process under the flags. */
export class RestartUnderV8Log extends Error {
  constructor(readonly project: string) {
    super(`project "${project}" runs benchmarks in worker threads: restart under V8's code log`);
  }
}

type ProjectConfig = {
  pool?: string;
  execArgv?: string[];
  env?: Record<string, string | undefined>;
  browser?: { enabled?: boolean };
};

/**
 * Gives a benchmark project's workers V8's code log, when the native source samples them:
 * forks → `execArgv` and the env var; threads → {@link RestartUnderV8Log} if the caller can
 * restart (vitest-perf) and this process is not a restart already, else nothing (a restarted
 * process has the flags; elsewhere no chains). A project whose `execArgv`
 * already logs is left alone.
 */
export function installV8Log(project: TestProject, source: string, canRestart: boolean): void {
  if (source === 'v8') return;
  const config = project.config as unknown as ProjectConfig;
  if (config.browser?.enabled) return;
  if (config.pool === 'forks' || config.pool === 'vmForks') {
    const execArgv = config.execArgv ?? [];
    if (execArgv.some((a) => /^--(log-code|logfile|prof)\b/.test(a))) return;
    const logfile = runLogfile();
    // A forks worker benchmarks on its main thread, which tracks code before any benchmark runs.
    config.execArgv = [...execArgv, ...v8LogFlags(logfile, { quiet: true })];
    config.env = { ...config.env, [V8_LOG_ENV]: logfile };
  } else if (config.pool === 'threads' || config.pool === 'vmThreads') {
    // A process started with the env var is a restart (or was started so by hand): never again.
    if (canRestart && startEnv[V8_LOG_ENV] === undefined) throw new RestartUnderV8Log(project.name || 'root');
  }
}

/**
 * Runs `node [execArgv] <flags> <script> [args]` again (this process's own command line, its
 * environment as it started) with a new log directory, and exits as the child exits, after
 * removing the directory. SIGTERM and SIGHUP are passed on; SIGINT too, unless a terminal is
 * attached: Ctrl-C reaches the child already (same process group), and a second SIGINT would
 * cut its interrupted-run report short.
 */
export function restartUnderV8Log(argv: readonly string[] = process.argv.slice(1)): void {
  const dir = makeLogDir();
  const logfile = path.join(dir, LOG_NAME);
  const child = spawn(process.execPath, [...process.execArgv, ...v8LogFlags(logfile), ...argv], {
    stdio: 'inherit',
    env: { ...startEnv, [V8_LOG_ENV]: logfile },
  });
  const pass = (sig: NodeJS.Signals) => {
    if (sig !== 'SIGINT' || !isatty(0)) child.kill(sig);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, pass);
  child.on('error', (e) => {
    process.stderr.write(`vitest-perf: could not restart under V8's code log: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    rmSync(dir, { recursive: true, force: true });
    if (signal) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, pass);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
