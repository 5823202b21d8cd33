/**
 * Generated → original positions for the modules Vite transformed.
 *
 * Vitest's module runner keeps each module's inline source map; frames are looked up by file
 * and their lines mapped, at their column when V8 gave one (a function's start from its code
 * name, a sampled position from its code log: a transformed line can hold several source
 * lines), else at the first mapping on the generated line (event=v8 frames).
 */
import path from 'node:path';
import { TraceMap, originalPositionFor, LEAST_UPPER_BOUND, GREATEST_LOWER_BOUND } from '@jridgewell/trace-mapping';
import type { SourceFrame } from '@perfprofile/core';
import { startColumn } from './names.js';

/** A raw source map (v3) as Vite produces it. */
export interface RawSourceMap {
  version: number;
  sources: (string | null)[];
  mappings: string;
  names?: string[];
  sourceRoot?: string;
  sourcesContent?: (string | null)[];
  file?: string;
}

/** Finds the source map of a transformed module by its file path, or undefined. */
export type MapLookup = (file: string) => RawSourceMap | undefined;

export class SourceMapper {
  private readonly maps = new Map<string, TraceMap | null>();
  /** Mapped positions by generated position (null: unmapped). */
  private readonly cache = new Map<string, Pick<SourceFrame, 'file' | 'line' | 'startLine'> | null>();

  constructor(private readonly lookup: MapLookup) {}

  private traceMap(file: string): TraceMap | null {
    let tm = this.maps.get(file);
    if (tm === undefined) {
      const raw =
        file.startsWith('node:') || file.includes(`${path.sep}node_modules${path.sep}`) ? undefined : this.lookup(file);
      tm = null;
      if (raw && raw.mappings) {
        try {
          tm = new TraceMap(raw as ConstructorParameters<typeof TraceMap>[0], file);
        } catch {
          tm = null;
        }
      }
      this.maps.set(file, tm);
    }
    return tm;
  }

  /**
   * Original file and 1-based line of a generated 1-based line, undefined when unmapped. With
   * a 1-based `column`: the mapping at or before it (`bias` GREATEST_LOWER_BOUND: the
   * expression a sampled position is in starts there), or at or after it (LEAST_UPPER_BOUND: a
   * function's start token may have no mapping of its own, its body does); else the first
   * mapping on the line.
   */
  position(
    file: string,
    line: number,
    column?: number,
    bias: typeof GREATEST_LOWER_BOUND | typeof LEAST_UPPER_BOUND = GREATEST_LOWER_BOUND,
  ): { file: string; line: number } | undefined {
    const tm = this.traceMap(file);
    if (!tm || line <= 0) return undefined;
    let pos = column && column > 0 ? originalPositionFor(tm, { line, column: column - 1, bias }) : undefined;
    if (pos?.line == null) pos = originalPositionFor(tm, { line, column: 0, bias: LEAST_UPPER_BOUND });
    if (pos.line == null)
      pos = originalPositionFor(tm, { line, column: Number.MAX_SAFE_INTEGER, bias: GREATEST_LOWER_BOUND });
    if (pos.line == null || pos.source == null) return undefined;
    const source = pos.source.startsWith('file://') ? new URL(pos.source).pathname : pos.source;
    return { file: path.resolve(path.dirname(file), source), line: pos.line };
  }

  /**
   * The frame with file, line and start line mapped to the original source (unchanged if
   * unmapped). Its `line` is mapped at its `column`, its start line at `startAt` (by default
   * the start column in its code name).
   */
  map(frame: SourceFrame, startAt = startColumn(frame)): SourceFrame {
    if (frame.kind !== 'js' || !frame.file) return frame;
    const key = `${frame.file}\u0000${frame.line}\u0000${frame.column ?? 0}\u0000${frame.startLine}\u0000${startAt ?? 0}`;
    let mapped = this.cache.get(key);
    if (mapped === undefined) {
      const at = this.position(frame.file, frame.line, frame.column);
      const start = this.position(frame.file, frame.startLine, startAt, LEAST_UPPER_BOUND);
      // A line the map does not cover (generated glue) falls back to the function's own line,
      // never to a generated line number presented as if it were the source's.
      mapped =
        at || start
          ? { file: (start ?? at)!.file, line: at?.line ?? start!.line, startLine: start?.line ?? at!.line }
          : null;
      this.cache.set(key, mapped);
    }
    return mapped ? { ...frame, ...mapped } : frame;
  }
}
