/**
 * Native frames → exact inline chains, from this thread's V8 code log. When env
 * PERFPROFILE_V8_LOG names the `--logfile` node was started with (v8LogFlags, inlineLaunch), each
 * JS frame the addon reports at a code offset is looked up there: the functions V8 inlined at
 * that pc, and the frame's own line at it. The log is followed per thread across profiles and
 * parsed incrementally at each stop. Frames the log does not name, and every frame when there
 * is no usable log, get what V8's line tables say (native-stacks.ts fromLineTable: their line,
 * an inferred inlined function, else function-level); a log in a format the parser does not
 * know gives one warning and no exact chains.
 */
import type { Binding, RawCode } from '@perfprofile/native';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { isolateLogFiles, V8_LOG_ENV, V8LogFollower, v8LogOnFlags } from '../inline/v8-log-file.js';
import type { InlineFrame } from '../inline/v8-log-model.js';
import { V8LogParser } from '../inline/v8-log.js';
import type { SourceFrame } from './source.js';
import { urlToFile } from './v8.js';

/** What naming frames from the log has cost this thread so far (docs/PERFORMANCE.md). */
export interface InlineStats {
  /** Log bytes parsed, and the time parsing them took (ms). */
  bytes: number;
  parseMs: number;
  /** Time spent looking frames up (ms), frames looked up and frames the log named. */
  lookupMs: number;
  frames: number;
  named: number;
  /** Bytes of position, inlining and line-end tables the parser keeps. */
  tableBytes: number;
}

/** Expands frames against the log as read at one stop. */
export interface InlineNamer {
  /**
   * `frame` (parsed from V8's code name) at `code`: its line at that pc and the functions
   * inlined there, innermost first; undefined when the log does not name it.
   */
  expand(frame: SourceFrame, code: RawCode, codeName: string): SourceFrame | undefined;
}

/**
 * Call once this thread tracks code: turns V8's code logging on, process-wide, when this thread
 * has a log (v8LogFlags starts node with it off). From then on V8 logs the code every thread
 * compiles. The code that existed before is never written, neither start-up's (node's, the test
 * runner's) nor the enumeration tracking just did (a second copy of the heap's code, most of a
 * worker's log). What that leaves to V8's line tables: optimized code from before tracking, and
 * a chain through a function compiled only before it (the log does not know that function).
 */
export function startCodeLog(binding: InlineBinding): void {
  const logfile = process.env[V8_LOG_ENV];
  if (!logfile || codeLogOn || typeof binding.isolateAddress !== 'function') return;
  const isolate = binding.isolateAddress();
  // A process that merely inherited the env var has no log to write to.
  if (!isolateLogFiles(logfile, process.pid).some((f) => f.isolate === isolate)) return;
  for (const flag of v8LogOnFlags(logfile)) setFlagsFromString(flag);
  codeLogOn = true;
}

/** What frames get instead of the log's chains, said in each warning. */
const INFERRED = "; inlined functions are inferred from V8's line tables where certain, marked (inferred)";

// This thread's follower: module state is per isolate (each Worker loads its own copy).
let follower: V8LogFollower | undefined;
let followedLog: string | undefined;
/** Whether this thread turned V8's code logging on (once is enough: the flag is process-wide). */
let codeLogOn = false;
const stats: Omit<InlineStats, 'tableBytes'> = { bytes: 0, parseMs: 0, lookupMs: 0, frames: 0, named: 0 };

/** Naming costs on this thread so far. */
export function inlineStats(): Readonly<InlineStats> {
  // Tables grow at lookups (decoded on first use): read from the parser when asked.
  return { ...stats, tableBytes: follower?.parser.stats.tableBytes ?? 0 };
}

/** What naming frames needs of the addon (a build older than the code log route lacks these). */
export type InlineBinding = Partial<Pick<Binding, 'isolateAddress' | 'scriptLines'>>;

/**
 * The namer for this thread's frames, after reading what the log has gained since the last
 * stop; undefined when no log was asked for (PERFPROFILE_V8_LOG unset) or it cannot be used,
 * then with one line in `warnings` saying why.
 */
export function inlineNamer(binding: InlineBinding, warnings: string[]): InlineNamer | undefined {
  const logfile = process.env[V8_LOG_ENV];
  if (!logfile) return undefined;
  const isolate = typeof binding.isolateAddress === 'function' ? binding.isolateAddress() : undefined;
  // The log has no script sources (v8LogFlags): the addon gives the lines of script offsets.
  const scripts = typeof binding.scriptLines === 'function' ? { lines: binding.scriptLines.bind(binding) } : undefined;
  if (!isolate || !scripts) {
    const missing = isolate ? "read its scripts' lines" : 'name its isolate';
    warnings.push(`exact inline frames off: this @perfprofile/native build cannot ${missing} (rebuild it)${INFERRED}`);
    return undefined;
  }
  if (!follower || followedLog !== logfile) {
    const file = isolateLogFiles(logfile, process.pid).find((f) => f.isolate === isolate);
    if (!file) {
      warnings.push(
        `exact inline frames off: no V8 log for isolate ${isolate} of process ${process.pid} beside ${logfile} (node must run with v8LogFlags(${JSON.stringify(logfile)}))${INFERRED}`,
      );
      return undefined;
    }
    follower = new V8LogFollower(file.path, new V8LogParser(scripts));
    followedLog = logfile;
  }
  const t0 = performance.now();
  stats.bytes += follower.poll();
  stats.parseMs += performance.now() - t0;
  const parser = follower.parser;
  const status = parser.status;
  if (!status.supported) {
    warnings.push(`exact inline frames off: ${status.reason} (node ${process.version})${INFERRED}`);
    return undefined;
  }
  let warned = false;
  return {
    expand(frame, code, codeName) {
      const t = performance.now();
      stats.frames++;
      const chain = parser.inlineChain({ start: code.start, size: code.size, name: codeName }, code.offset);
      stats.lookupMs += performance.now() - t;
      // A code object's tables are decoded at its first lookup: one in an unknown shape is found here.
      const late = warned ? undefined : parser.status;
      if (late && !late.supported) {
        warned = true;
        warnings.push(`exact inline frames off: ${late.reason} (node ${process.version})${INFERRED}`);
      }
      if (!chain || chain.length === 0) return undefined;
      stats.named++;
      return withChain(frame, chain);
    },
  };
}

/** The physical frame at the chain's outermost position, with the inlined functions inside it. */
function withChain(frame: SourceFrame, chain: readonly InlineFrame[]): SourceFrame {
  const own = chain[chain.length - 1];
  // The parsed column is where the function starts: replaced by the position's, or dropped.
  const { column: _start, ...rest } = frame;
  const at: SourceFrame = { ...rest, line: own.line, ...(own.column > 0 ? { column: own.column } : {}) };
  if (chain.length === 1) return at;
  const inline = chain.slice(0, -1).map((f): SourceFrame => ({
    name: f.name,
    file: urlToFile(f.scriptUrl),
    line: f.line,
    startLine: f.functionStartLine,
    kind: 'js',
    ...(f.column > 0 ? { column: f.column } : {}),
    ...(frame.tier ? { tier: frame.tier } : {}),
  }));
  return { ...at, inline };
}

/** Forgets this thread's follower (tests: a new log). */
export function resetInlineNamer(): void {
  follower = undefined;
  followedLog = undefined;
}
