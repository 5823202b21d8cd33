/**
 * Whose line a V8 `positionTicks` line is. V8's sampler files the ticks of a function inlined
 * at the sampled pc under the caller, with the line taken from the inlined function's own
 * script. The inspector says neither which functions were inlined nor which script a line
 * came from, so a line is the caller's only when no other function that has run could own it:
 * every function's source range comes from `Profiler.getBestEffortCoverage` (invocation counts
 * too: only a function that ran can be inlined), and the scripts' sources give their lines.
 * One other candidate gives the line to that function; several, or none, leave the frame at
 * its function's first line.
 */
import type { Session } from 'node:inspector';
import { post } from '../inspector.js';

interface CoverageFunction {
  functionName: string;
  ranges: { startOffset: number; endOffset: number; count: number }[];
}
interface ScriptCoverage {
  scriptId: string;
  url: string;
  functions: CoverageFunction[];
}

/** A script's line table: offsets where lines start, and the line/column offsets V8 applies. */
export interface ScriptLines {
  readonly starts: Uint32Array;
  readonly lineOffset: number;
  readonly columnOffset: number;
}

interface Fn {
  readonly name: string;
  readonly url: string;
  readonly start: number;
  readonly end: number;
  readonly ran: boolean;
  /** 1-based, script offsets applied. */
  readonly startLine: number;
  readonly endLine: number;
  readonly lines: ScriptLines;
}

/** The function that owns a tick's line: the frame's own, another (inlined) one, or unknown. */
export type LineOwner =
  | { readonly own: true }
  | { readonly own: false; readonly name: string; readonly url: string; readonly startLine: number };

/** Answers "whose is line L of the node at (script, line, column)?" for one profile. */
export interface LineOwners {
  owner(scriptId: string, lineNumber: number, columnNumber: number, line: number): LineOwner | undefined;
}

/** 1-based line of `offset` in a line table (script line offset applied). */
function lineAt(lines: ScriptLines, offset: number): number {
  let lo = 0;
  let hi = lines.starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lines.starts[mid] <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo + lines.lineOffset;
}

export function lineStarts(source: string, lineOffset = 0, columnOffset = 0): ScriptLines {
  const starts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
  return { starts: Uint32Array.from(starts), lineOffset, columnOffset };
}

/**
 * Builds the owners from coverage and line tables (pure: tests feed it directly). Line tables
 * are asked for lazily, the caller's script first, then the scripts with most functions that
 * ran: a line stops being looked up as soon as two functions could own it. A script without a
 * line table makes any line it might own ambiguous.
 */
export function lineOwners(
  coverage: readonly ScriptCoverage[],
  linesOf: (scriptId: string) => ScriptLines | undefined,
): LineOwners {
  interface Script {
    readonly cov: ScriptCoverage;
    readonly ranCount: number;
    fns?: Fn[] | null;
  }
  const scripts: Script[] = coverage
    .map((cov) => ({ cov, ranCount: cov.functions.filter((f) => (f.ranges[0]?.count ?? 0) > 0).length }))
    .sort((a, b) => b.ranCount - a.ranCount);
  const byId = new Map(scripts.map((s) => [s.cov.scriptId, s]));

  /** The script's functions with their lines, smallest first; null when its lines are unknown. */
  const functionsOf = (s: Script): Fn[] | null => {
    if (s.fns !== undefined) return s.fns;
    const lines = linesOf(s.cov.scriptId);
    if (!lines) return (s.fns = null);
    const scriptEnd = Math.max(0, ...s.cov.functions.map((f) => f.ranges[0]?.endOffset ?? 0));
    const fns: Fn[] = [];
    for (const f of s.cov.functions) {
      const r = f.ranges[0];
      if (!r) continue;
      // The script's own top-level code is never called, so never inlined.
      const topLevel = r.startOffset === 0 && r.endOffset === scriptEnd && f.functionName === '';
      const startLine = lineAt(lines, r.startOffset);
      fns.push({
        name: f.functionName,
        url: s.cov.url,
        start: r.startOffset,
        end: r.endOffset,
        ran: r.count > 0 && !topLevel,
        startLine,
        endLine: lineAt(lines, Math.max(r.startOffset, r.endOffset - 1)),
        lines,
      });
    }
    // Smallest first, so the first range covering a whole line ends the search.
    fns.sort((a, b) => a.end - a.start - (b.end - b.start));
    return (s.fns = fns);
  };

  /** Functions of `s` that may have code on `line`: up to the smallest one spanning the whole line. */
  const ownersOn = (s: Script, line: number): Fn[] | undefined => {
    if (s.ranCount === 0) return [];
    const fns = functionsOf(s);
    // A script that ran but whose lines are unknown could own any line.
    if (!fns) return undefined;
    const out: Fn[] = [];
    for (const f of fns) {
      if (f.startLine > line || f.endLine < line) continue;
      out.push(f);
      const i = line - 1 - f.lines.lineOffset;
      const from = f.lines.starts[i];
      const to = i + 1 < f.lines.starts.length ? f.lines.starts[i + 1] - 1 : Number.MAX_SAFE_INTEGER;
      if (f.start <= from && f.end >= to) break;
    }
    return out;
  };

  const cache = new Map<string, LineOwner | undefined>();
  const answer = (scriptId: string, lineNumber: number, columnNumber: number, line: number): LineOwner | undefined => {
    const home = byId.get(scriptId);
    const fns = home && functionsOf(home);
    if (!home || !fns || fns.length === 0) return undefined;
    // V8 places a function at its parameters (coverage ranges start at `function`): the frame's
    // function is the smallest range holding that position.
    const lines = fns[0].lines;
    const i = lineNumber - lines.lineOffset;
    if (i < 0 || i >= lines.starts.length) return undefined;
    const at = lines.starts[i] + columnNumber - (i === 0 ? lines.columnOffset : 0);
    const self = fns.find((f) => f.start <= at && at < f.end);
    if (!self) return undefined;
    const candidates: Fn[] = [];
    for (const s of [home, ...scripts.filter((x) => x !== home)]) {
      const on = ownersOn(s, line);
      if (on === undefined) return undefined;
      for (const f of on) if (f === self || f.ran) candidates.push(f);
      if (candidates.length > 1) return undefined;
    }
    if (candidates.length !== 1) return undefined;
    const c = candidates[0];
    return c === self ? { own: true } : { own: false, name: c.name, url: c.url, startLine: c.startLine };
  };
  return {
    owner(scriptId, lineNumber, columnNumber, line) {
      const key = `${scriptId}:${lineNumber}:${columnNumber}:${line}`;
      if (!cache.has(key)) cache.set(key, answer(scriptId, lineNumber, columnNumber, line));
      return cache.get(key);
    },
  };
}

// Line tables outlive profiles: a script's source never changes under its id in one isolate.
const linesCache = new Map<string, ScriptLines | undefined>();

/** What computing the owners cost at the last stop (docs/PERFORMANCE.md). */
export const lineOwnerStats = { coverageMs: 0, sourcesMs: 0, scripts: 0, fetched: 0 };

/**
 * Coverage and line tables from this thread's inspector session, just after Profiler.stop. The
 * debugger is enabled only when a source not read before is needed; close() disables it again.
 */
export function inspectLineOwners(session: Session): { owners: LineOwners; close(): void } {
  const t0 = performance.now();
  const coverage = post<{ result: ScriptCoverage[] }>(session, 'Profiler.getBestEffortCoverage').result;
  const t1 = performance.now();
  let fetched = 0;
  let fetchMs = 0;
  let offsets: Map<string, { startLine: number; startColumn: number }> | undefined;
  const onParsed = (m: { params: { scriptId: string; startLine: number; startColumn: number } }): void => {
    offsets?.set(m.params.scriptId, m.params);
  };
  const linesOf = (id: string): ScriptLines | undefined => {
    if (linesCache.has(id)) return linesCache.get(id);
    const t = performance.now();
    let lines: ScriptLines | undefined;
    try {
      if (!offsets) {
        offsets = new Map();
        session.on('Debugger.scriptParsed', onParsed);
        post(session, 'Debugger.enable');
      }
      const src = post<{ scriptSource: string }>(session, 'Debugger.getScriptSource', { scriptId: id });
      const o = offsets.get(id);
      lines = lineStarts(src.scriptSource, o?.startLine ?? 0, o?.startColumn ?? 0);
      fetched++;
    } catch {
      lines = undefined;
    }
    linesCache.set(id, lines);
    fetchMs += performance.now() - t;
    return lines;
  };
  return {
    owners: lineOwners(coverage, linesOf),
    close() {
      if (offsets) {
        session.off('Debugger.scriptParsed', onParsed);
        try {
          post(session, 'Debugger.disable');
        } catch {
          // already gone with the session
        }
      }
      lineOwnerStats.coverageMs = t1 - t0;
      lineOwnerStats.sourcesMs = fetchMs;
      lineOwnerStats.scripts = coverage.length;
      lineOwnerStats.fetched = fetched;
    },
  };
}
