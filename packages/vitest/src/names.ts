/**
 * Names for two kinds of frames whose V8 name says nothing: the benchmark's own callback, named
 * after its benchmark (`bench: fnv1a 4k`; V8 calls `bench('x', () => f(), { time: 300 })`'s
 * callback `time`, after the next property key), and the export getters Vite's SSR transform
 * defines for each export of a module (`(vite export) compareValues`; V8: `(anonymous)` at the
 * module's first line). V8's name stays the frame's systemName.
 */
import { Session } from 'node:inspector';
import { INFERRED_SUFFIX, type SourceFrame } from '@perfprofile/core';

/** The benchmark callback's definition in its compiled module (V8's positions: 1-based line and column). */
export interface CallbackSite {
  readonly name: string;
  readonly line: number;
  readonly column: number;
  /** Its source text, to confirm the module a matching frame is in. */
  readonly source: string;
}

/** A transformed module's code by file path (as Vite's module runner keeps it), or undefined. */
export type CodeLookup = (file: string) => string | undefined;

/** A function's `[[FunctionLocation]]` through the inspector (0-based), or undefined (no inspector, a bound or native function). */
function functionLocation(fn: (...args: never[]) => unknown): { lineNumber: number; columnNumber: number } | undefined {
  const key = `__perfprofile_fn_${process.pid}`;
  const global = globalThis as Record<string, unknown>;
  const session = new Session();
  try {
    session.connect();
    // A session on this thread answers synchronously: each callback has run when post() returns.
    const post = <T>(method: string, params: object): T => {
      let out: { error: Error | null; result?: T } | undefined;
      session.post(method, params, (error, result) => (out = { error, result: result as T }));
      if (!out || out.error) throw out?.error ?? new Error(`${method}: no answer`);
      return out.result!;
    };
    global[key] = fn;
    const { result } = post<{ result: { objectId?: string } }>('Runtime.evaluate', { expression: `globalThis.${key}` });
    if (!result.objectId) return undefined;
    const props = post<{
      internalProperties?: { name: string; value?: { value?: { lineNumber: number; columnNumber: number } } }[];
    }>('Runtime.getProperties', { objectId: result.objectId, ownProperties: true });
    post('Runtime.releaseObject', { objectId: result.objectId });
    return props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value;
  } catch {
    return undefined;
  } finally {
    delete global[key];
    session.disconnect();
  }
}

/**
 * Where benchmark `benchmark`'s callback `fn` is, so that its frame can be named after the
 * benchmark; undefined for a named function (`bench('x', mixNamed)` keeps `mixNamed`) or one
 * the inspector cannot place.
 */
export function callbackSite(fn: unknown, benchmark: string): CallbackSite | undefined {
  if (typeof fn !== 'function' || fn.name !== '') return undefined;
  const at = functionLocation(fn as (...args: never[]) => unknown);
  if (!at) return undefined;
  return {
    name: `bench: ${benchmark}`,
    line: at.lineNumber + 1,
    column: at.columnNumber + 1,
    source: Function.prototype.toString.call(fn),
  };
}

// Vite 6+: `__vite_ssr_exportName__("name", () => { try { return name } catch {} });`, one a
// line at the top of the module; before: `Object.defineProperty(__vite_ssr_exports__, "name",
// { enumerable: true, configurable: true, get(){ return name }});`.
const GETTERS = [
  /__vite_ssr_exportName__\("((?:[^"\\]|\\.)*)", (?=\(\) => \{ try \{ return )/g,
  /Object\.defineProperty\(__vite_ssr_exports__, "((?:[^"\\]|\\.)*)", \{ enumerable: true, configurable: true, (?=get\(\)\{ return )/g,
];

/** Names frames of one benchmark: its callback (when `site` is known) and Vite's export getters. */
export class FrameNamer {
  private readonly lines = new Map<string, string[] | null>();
  private readonly getters = new Map<string, string | null>();
  /** Whether a module's code holds the callback's source (or is unknown), by file. */
  private readonly holdsSource = new Map<string, boolean>();

  constructor(
    private readonly code: CodeLookup,
    private readonly site?: CallbackSite,
  ) {}

  /** Whether `frame` (compiled positions, before source maps) is the benchmark's callback. */
  isCallback(frame: SourceFrame): boolean {
    const s = this.site;
    if (!s || frame.kind !== 'js' || frame.startLine !== s.line) return false;
    const column = startColumn(frame);
    if (column !== undefined && column !== s.column) return false;
    let holds = this.holdsSource.get(frame.file);
    if (holds === undefined) {
      const code = this.code(frame.file);
      holds = code === undefined || code.includes(s.source);
      this.holdsSource.set(frame.file, holds);
    }
    return holds;
  }

  /** The export name when `frame` is one of Vite's export getters, else undefined. */
  exportGetter(frame: SourceFrame): string | undefined {
    if (frame.kind !== 'js' || !frame.file || frame.startLine <= 0) return undefined;
    const key = `${frame.file}\u0000${frame.startLine}\u0000${startColumn(frame) ?? 0}`;
    let name = this.getters.get(key);
    if (name === undefined) {
      name = getterAt(this.lineOf(frame.file, frame.startLine), startColumn(frame)) ?? null;
      this.getters.set(key, name);
    }
    return name ?? undefined;
  }

  /** Where `frame`'s function starts on its first line: its code name's column, or the callback's once named so. */
  startColumn(frame: SourceFrame): number | undefined {
    return startColumn(frame) ?? (this.site && frame.name === this.site.name ? this.site.column : undefined);
  }

  /** `frame` renamed when it is the callback (`root`: the frame the harness called) or an export getter. */
  name(frame: SourceFrame, root: boolean): SourceFrame {
    let name: string | undefined;
    if (root && this.isCallback(frame)) name = this.site!.name;
    else {
      const exported = this.exportGetter(frame);
      // An inlined getter named from V8's line tables keeps its mark: the name is a guess.
      const mark = frame.name.endsWith(INFERRED_SUFFIX) ? INFERRED_SUFFIX : '';
      if (exported !== undefined) name = `(vite export) ${exported}${mark}`;
    }
    return name === undefined ? frame : { ...frame, name, systemName: frame.systemName ?? frame.name };
  }

  private lineOf(file: string, line: number): string | undefined {
    let lines = this.lines.get(file);
    if (lines === undefined) {
      lines = this.code(file)?.split('\n') ?? null;
      this.lines.set(file, lines);
    }
    return lines?.[line - 1];
  }
}

/**
 * Where the frame's function starts on its first line (1-based), from V8's code name
 * (`JS:*time /p/x.bench.ts:29:43`); undefined when unknown (event=v8 frames, inlined
 * functions). A frame's own `column` is the sampled position's once V8's log expanded it.
 */
export function startColumn(frame: SourceFrame): number | undefined {
  const m = /:(\d+):(\d+)$/.exec(frame.systemName ?? '');
  return m && Number(m[1]) === frame.startLine ? Number(m[2]) : undefined;
}

/** The export whose getter starts on `text` (a compiled line): the only one there, or the one at `column` (1-based). */
function getterAt(text: string | undefined, column: number | undefined): string | undefined {
  if (!text || !text.includes('__vite_ssr_export')) return undefined;
  const found: { name: string; column: number }[] = [];
  for (const re of GETTERS) {
    for (const m of text.matchAll(re))
      found.push({ name: JSON.parse(`"${m[1]}"`) as string, column: m.index + m[0].length + 1 });
  }
  if (found.length === 1) return found[0].name;
  return found.find((g) => g.column === column)?.name;
}
