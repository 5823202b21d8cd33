/**
 * V8 log files on disk: the node flags that write them, the per-isolate files they become, and a
 * follower that feeds a parser whatever the file has grown by. V8 flushes every record as it
 * writes it, so a log can be read while the process runs.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { V8LogParser } from './v8-log.js';

/**
 * Node command-line flags that log code with exact inline chains to `logfile`. They only work on
 * node's own command line (NODE_OPTIONS rejects them). Each isolate (main thread, every Worker)
 * writes its own file beside `logfile` (see isolateLogFiles); `--no-logfile-per-isolate` would
 * make them all truncate and overwrite one file. V8 logs no script source (80% of the bytes):
 * the lines of script offsets come from the process that wrote the log (ScriptLocator), so only
 * it can read the log.
 *
 * The files open with code logging off, and the first thread of the process to track code turns
 * it on (startCodeLog): the code of node's and the test runner's start-up is never written.
 * `quiet` also sets the log flags back to V8's defaults until then (a preload): node's code
 * cache for its own modules, made under the defaults, stays usable, but Workers started before
 * the tracking get no log; for a process whose profiled thread is its main one (a forks
 * worker). `fromStart` logs everything from the start, with `sources` the scripts' text too,
 * so that another process can read it (tests).
 */
export function v8LogFlags(
  logfile: string,
  options: { quiet?: boolean; fromStart?: boolean; sources?: boolean } = {},
): string[] {
  const file = [`--logfile=${logfile}`, '--logfile-per-isolate'];
  if (options.fromStart)
    return ['--log-code', '--log-source-position', ...(options.sources ? [] : ['--no-log-source-code']), ...file];
  // startCodeLog sets --logfile again at run time, where V8 splits flags at whitespace.
  const quiet = options.quiet && !/\s/.test(logfile);
  return ['--log', ...file, ...(quiet ? ['--require', QUIET_PRELOAD] : [])];
}

/** The preload that sets V8's log flags back to their defaults until code is tracked. */
const QUIET_PRELOAD = fileURLToPath(new URL('../../preload/v8-log-quiet.cjs', import.meta.url));

/**
 * Run-time flags that turn the log of a node started with v8LogFlags on: V8 logs code (with the
 * inline tables, without script sources) from then on, and Workers started later open logs.
 */
export function v8LogOnFlags(logfile: string): string[] {
  return [
    '--log',
    ...(/\s/.test(logfile) ? [] : [`--logfile=${logfile}`]),
    '--log-source-position',
    '--no-log-source-code',
    '--log-code',
  ];
}

/** The env var that tells a native source in that process where its V8 logs are (the `--logfile` of v8LogFlags). */
export const V8_LOG_ENV = 'PERFPROFILE_V8_LOG';

/** How to start node so its native profiles get exact inline chains. */
export interface InlineLaunch {
  /** Node flags for its own command line (or a fork's execArgv); NODE_OPTIONS refuses them. */
  readonly execArgv: readonly string[];
  /** Env for that process (and, inherited, its Workers): PERFPROFILE_V8_LOG. */
  readonly env: Readonly<Record<string, string>>;
  /** The `--logfile`: each isolate writes `isolate-<address>-<pid>-v8.log` beside it. */
  readonly logfile: string;
}

/**
 * The flags and env that make node write its code log into `dir` (which must exist), for native
 * sources to read inline chains from. The logs grow with the code V8 compiles (a few MB per
 * busy process): remove `dir` when the process has exited. Not for event=v8: V8's CpuProfiler
 * stops code logging while it runs.
 */
export function inlineLaunch(dir: string): InlineLaunch {
  const logfile = path.join(dir, 'v8.log');
  return { execArgv: v8LogFlags(logfile), env: { [V8_LOG_ENV]: logfile }, logfile };
}

export interface IsolateLogFile {
  readonly path: string;
  /** The isolate's address as V8 prints it (`0x7f1c4c001000`). */
  readonly isolate: string;
  readonly pid: number;
}

/** The per-isolate files V8 wrote for `logfile`: `<dir>/isolate-<address>-<pid>-<basename>`. */
export function isolateLogFiles(logfile: string, pid?: number): IsolateLogFile[] {
  const dir = path.dirname(logfile);
  const base = path.basename(logfile);
  const out: IsolateLogFile[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const m = /^isolate-(0x[0-9a-f]+)-(\d+)-(.*)$/.exec(name);
    if (!m || m[3] !== base || (pid !== undefined && Number(m[2]) !== pid)) continue;
    out.push({ path: path.join(dir, name), isolate: m[1], pid: Number(m[2]) });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Follows one log file as it grows. */
export class V8LogFollower {
  readonly parser: V8LogParser;
  private offset = 0;
  private readonly buffer = Buffer.allocUnsafe(1 << 20);

  constructor(
    readonly file: string,
    parser = new V8LogParser(),
  ) {
    this.parser = parser;
  }

  /** Feeds the parser what was appended since the last poll; returns the bytes read (0 if the file is absent). */
  poll(): number {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return 0;
    }
    let total = 0;
    try {
      const size = fstatSync(fd).size;
      while (this.offset < size) {
        const n = readSync(fd, this.buffer, 0, Math.min(this.buffer.length, size - this.offset), this.offset);
        if (n <= 0) break;
        this.parser.feed(this.buffer.subarray(0, n));
        this.offset += n;
        total += n;
      }
    } finally {
      closeSync(fd);
    }
    return total;
  }

  /** Reads the rest after the process exited; a cut last line is dropped. */
  finish(): V8LogParser {
    this.poll();
    this.parser.end();
    return this.parser;
  }
}
