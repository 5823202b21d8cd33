/**
 * V8 log files on disk: the node flags that write them, the per-isolate files they become, and a
 * follower that feeds a parser whatever the file has grown by. V8 flushes every record as it
 * writes it, so a log can be read while the process runs.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { V8LogParser } from './v8-log.js';

/**
 * Node command-line flags that log code with exact inline chains to `logfile`. They only work on
 * node's own command line (NODE_OPTIONS rejects them). Each isolate (main thread, every Worker)
 * writes its own file beside `logfile` (see isolateLogFiles); `--no-logfile-per-isolate` would
 * make them all truncate and overwrite one file. Without `sources` V8 logs no script source
 * (80% of the bytes): the lines of script offsets then come from the process that wrote the log
 * (ScriptLocator), so only it can read the log. With them, any process can.
 */
export function v8LogFlags(logfile: string, options: { sources?: boolean } = {}): string[] {
  return [
    '--log-code',
    '--log-source-position',
    ...(options.sources ? [] : ['--no-log-source-code']),
    `--logfile=${logfile}`,
    '--logfile-per-isolate',
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
  /** Where to go on from once the header line is read (0: read everything). */
  private from: number;
  private readonly buffer = Buffer.allocUnsafe(1 << 20);

  /**
   * `from`: a byte offset where the records that matter begin (what the file held when this
   * thread started tracking code: V8 then logged its live code again). The header line is
   * still read; records before `from` are skipped, and a record `from` cuts is skipped whole.
   */
  constructor(
    readonly file: string,
    parser = new V8LogParser(),
    options: { from?: number } = {},
  ) {
    this.parser = parser;
    this.from = options.from ?? 0;
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
      if (this.from > 0) {
        total += this.skipTo(fd, size);
        if (this.from > 0) return total;
      }
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

  /** Feeds the header line, then moves to the first line that starts at or after `from`; the bytes fed. */
  private skipTo(fd: number, size: number): number {
    let fed = 0;
    if (this.offset === 0) {
      const n = readSync(fd, this.buffer, 0, Math.min(this.buffer.length, size), 0);
      const end = this.buffer.subarray(0, n).indexOf(10);
      if (end < 0) return 0;
      this.parser.feed(this.buffer.subarray(0, end + 1));
      this.offset = fed = end + 1;
    }
    if (this.from > this.offset) {
      // The line before `from` ends at `from - 1` unless `from` cut a record: then past it.
      const probe = this.from - 1;
      const n = probe < size ? readSync(fd, this.buffer, 0, Math.min(this.buffer.length, size - probe), probe) : 0;
      const nl = this.buffer.subarray(0, n).indexOf(10);
      if (nl < 0) return fed;
      this.offset = probe + nl + 1;
    }
    this.from = 0;
    return fed;
  }

  /** Reads the rest after the process exited; a cut last line is dropped. */
  finish(): V8LogParser {
    this.poll();
    this.parser.end();
    return this.parser;
  }
}
