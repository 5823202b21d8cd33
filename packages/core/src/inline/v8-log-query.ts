/**
 * Inline chains from the parsed V8 log: which logged code object a sampled one is, which
 * position covers a pc offset, and the functions and lines from there out to the code's own
 * function.
 */
import type { CodeRef, InlineFrame, LogCode, LogFunction, LogScript } from './v8-log-model.js';
import { decodeRawName, unescapeString } from './v8-log-text.js';

/** What the query needs from the parser. */
export interface CodeLogView {
  codesAt(address: number): readonly LogCode[];
  script(id: number): LogScript | undefined;
}

/** See V8LogParser.inlineChain. */
export function inlineChain(log: CodeLogView, ref: CodeRef, pcOffset: number): InlineFrame[] | undefined {
  const address = toAddress(ref.start);
  if (address === undefined || !Number.isInteger(pcOffset) || pcOffset < 0 || pcOffset >= ref.size) return undefined;
  const candidates = log
    .codesAt(address)
    .filter((c) => c.size === ref.size && (ref.name === undefined || nameMatches(log, c, ref.name)));
  if (candidates.length === 0) return undefined;
  const first = chainOf(log, candidates[0], pcOffset);
  if (!first) return undefined;
  // Code objects that shared this address and size must agree, or we cannot tell which ran.
  for (let i = 1; i < candidates.length; i++) {
    if (!sameChain(first, chainOf(log, candidates[i], pcOffset))) return undefined;
  }
  return first;
}

/** The chain at `pcOffset` in one code object, innermost first. */
export function chainOf(log: CodeLogView, code: LogCode, pcOffset: number): InlineFrame[] | undefined {
  const { positions, inlining, functions, fn } = code;
  if (!positions || !inlining || !functions || !fn) return undefined;
  const at = positionAt(positions, pcOffset);
  if (at < 0) return undefined;
  const frames: InlineFrame[] = [];
  let inliningId = positions[at + 2];
  let offset = positions[at + 1];
  // Each step: the frame of the function at this inlining level, then out to its call site.
  for (let depth = 0; depth <= inlining.length / 3; depth++) {
    const owner = inliningId < 0 ? fn : functionOf(inliningId);
    if (!owner) return undefined;
    const frame = frameAt(log, owner, offset);
    if (!frame) return undefined;
    frames.push(frame);
    if (inliningId < 0) return frames;
    offset = inlining[inliningId * 3 + 1];
    inliningId = inlining[inliningId * 3 + 2];
  }
  return undefined; // a cycle: not a table V8 writes

  function functionOf(id: number): LogFunction | undefined {
    const index = inlining![id * 3];
    return index < 0 ? undefined : functions![index];
  }
}

/** Index (into the triples) of the last position at or before `pcOffset`, or -1. */
function positionAt(positions: Int32Array, pcOffset: number): number {
  let lo = 0;
  let hi = positions.length / 3;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positions[mid * 3] <= pcOffset) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? -1 : (lo - 1) * 3;
}

/**
 * The frame of `fn` at script offset `offset`. The line:column V8 printed in the function's
 * name, against the line ends computed here, gives the script's line offset (and first-line
 * column offset, for vm scripts compiled with them); a function that disagrees with the others
 * of its script makes the whole script answer undefined rather than wrong lines.
 */
function frameAt(log: CodeLogView, fn: LogFunction, offset: number): InlineFrame | undefined {
  const script = log.script(fn.scriptId);
  if (!script || script.inconsistent || offset < 0 || fn.nameLine <= 0) return undefined;
  const name = functionName(fn, script);
  const start = script.position(fn.start);
  const at = script.position(offset);
  if (name === undefined || !start || !at) return undefined;
  if (!agrees(script, fn, start)) return undefined;
  let column = at.column + 1;
  if (at.line === 0) {
    // A position on the first line lies in a function that starts there too.
    if (script.columnOffset === undefined) return undefined;
    column += script.columnOffset;
  }
  return {
    name,
    scriptUrl: script.name,
    line: at.line + script.lineOffset! + 1,
    column,
    functionStartLine: fn.nameLine,
  };
}

/** Records the script offsets a function's start implies; false (and the script marked) on a conflict. */
function agrees(script: LogScript, fn: LogFunction, start: { line: number; column: number }): boolean {
  const lineOffset = fn.nameLine - 1 - start.line;
  const columnOffset = fn.nameColumn - 1 - start.column;
  script.lineOffset ??= lineOffset;
  if (start.line === 0) script.columnOffset ??= columnOffset;
  // Past the first line, columns carry no offset.
  if (
    script.lineOffset !== lineOffset ||
    (start.line === 0 ? script.columnOffset !== columnOffset : columnOffset !== 0)
  ) {
    script.inconsistent = true;
    return false;
  }
  return true;
}

/** The escaped debug name in `<name> <script name>:<line>:<column>`, or undefined if it does not split so. */
function rawDebugName(rawName: string, fn: LogFunction, script: LogScript): string | undefined {
  const tail = `:${fn.nameLine}:${fn.nameColumn}`;
  if (!rawName.endsWith(tail)) return undefined;
  const head = rawName.slice(0, -tail.length);
  if (script.rawName !== undefined) {
    return head.endsWith(` ${script.rawName}`) ? head.slice(0, -(script.rawName.length + 1)) : undefined;
  }
  // The script's name came unescaped from the process: the split is the last space after which
  // the rest reads as that name (a name is never its own proper suffix).
  const names = [script.name, ...(script.aliases ?? [])];
  for (let sp = head.lastIndexOf(' '); sp >= 0; sp = sp > 0 ? head.lastIndexOf(' ', sp - 1) : -1) {
    if (names.includes(unescapeString(head.slice(sp + 1)))) return head.slice(0, sp);
  }
  return undefined;
}

function functionName(fn: LogFunction, script: LogScript): string | undefined {
  const raw = rawDebugName(fn.rawName, fn, script);
  const name = raw === undefined ? undefined : decodeRawName(raw);
  return name === undefined ? undefined : name || '(anonymous)';
}

/**
 * Whether V8's JIT code event name (`<tag>:<marker><name>`, UTF-8, at most 4096 bytes) names the
 * logged code object: same tag, tier marker and name.
 */
export function nameMatches(log: CodeLogView, code: LogCode, given: string): boolean {
  const name = codeName(log, code);
  if (name === undefined) return false;
  const expected = `${code.tag}:${code.marker}${name}`;
  if (given === expected) return true;
  // V8's name buffer keeps 4096 bytes: a longer name arrives cut.
  const cut = given.replace(/\uFFFD$/, '');
  return Buffer.byteLength(given, 'utf8') >= 4000 && expected.startsWith(cut);
}

/** The code object's name as V8 builds it for JIT code events, or undefined if it cannot be decoded. */
function codeName(log: CodeLogView, code: LogCode): string | undefined {
  const script = code.fn && log.script(code.fn.scriptId);
  const raw = code.fn && script ? rawDebugName(code.rawName, code.fn, script) : undefined;
  const debug = raw === undefined ? undefined : decodeRawName(raw);
  // The debug name was written as raw UTF-8, the script name escaped.
  return debug === undefined ? undefined : `${debug} ${script!.name}:${code.fn!.nameLine}:${code.fn!.nameColumn}`;
}

function sameChain(a: readonly InlineFrame[], b: readonly InlineFrame[] | undefined): boolean {
  if (!b || a.length !== b.length) return false;
  return a.every((f, i) => {
    const g = b[i];
    return (
      f.name === g.name &&
      f.scriptUrl === g.scriptUrl &&
      f.line === g.line &&
      f.column === g.column &&
      f.functionStartLine === g.functionStartLine
    );
  });
}

function toAddress(start: number | bigint | string): number | undefined {
  if (typeof start === 'number') return Number.isSafeInteger(start) && start >= 0 ? start : undefined;
  if (typeof start === 'bigint')
    return start >= 0n && start <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(start) : undefined;
  return /^0x[0-9a-fA-F]{1,13}$/.test(start) ? parseInt(start.slice(2), 16) : undefined;
}
