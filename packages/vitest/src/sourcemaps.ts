/**
 * Generated → original positions for the modules Vite transformed.
 *
 * Vitest's module runner keeps each module's inline source map; frames are looked up by file
 * and their lines mapped (V8 gives no reliable column for a sampled line, so the first mapping
 * on the generated line is used).
 */
import path from 'node:path';
import { TraceMap, originalPositionFor, LEAST_UPPER_BOUND, GREATEST_LOWER_BOUND } from '@jridgewell/trace-mapping';
import type { SourceFrame } from '@perfprofile/core';

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
  private readonly cache = new Map<string, SourceFrame>();

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

  /** Original file and 1-based line of a generated 1-based line, or undefined when unmapped. */
  position(file: string, line: number): { file: string; line: number } | undefined {
    const tm = this.traceMap(file);
    if (!tm || line <= 0) return undefined;
    let pos = originalPositionFor(tm, { line, column: 0, bias: LEAST_UPPER_BOUND });
    if (pos.line == null)
      pos = originalPositionFor(tm, { line, column: Number.MAX_SAFE_INTEGER, bias: GREATEST_LOWER_BOUND });
    if (pos.line == null || pos.source == null) return undefined;
    const source = pos.source.startsWith('file://') ? new URL(pos.source).pathname : pos.source;
    return { file: path.resolve(path.dirname(file), source), line: pos.line };
  }

  /** The frame with file, line and start line mapped to the original source (unchanged if unmapped). */
  map(frame: SourceFrame): SourceFrame {
    if (frame.kind !== 'js' || !frame.file) return frame;
    const key = `${frame.file}\u0000${frame.line}\u0000${frame.startLine}\u0000${frame.name}`;
    let out = this.cache.get(key);
    if (!out) {
      const at = this.position(frame.file, frame.line);
      const start = this.position(frame.file, frame.startLine);
      // A line the map does not cover (generated glue) falls back to the function's own line,
      // never to a generated line number presented as if it were the source's.
      out =
        at || start
          ? { ...frame, file: (start ?? at)!.file, line: at?.line ?? start!.line, startLine: start?.line ?? at!.line }
          : frame;
      this.cache.set(key, out);
    }
    return out;
  }
}
