/**
 * ProfileBuilder assembles a {@link Profile} from frames: functions are deduplicated by
 * (name, system name, file, start line), locations by their lines (function, line, column; one
 * per function of an inline chain), and samples with the same stack and labels are folded into
 * one by adding their values.
 */
import type { Label, Line, Location, Profile, ProfileFunction, Sample, ValueType } from './model.js';
import { emptyProfile } from './model.js';

/** One stack frame as a source reports it, before it becomes a Function and a Location. */
export interface Frame {
  readonly name: string;
  /** Defaults to `name`; V8 sources put the tier-marked name here. */
  readonly systemName?: string;
  readonly file: string;
  /** 1-based line of the sampled position in this frame; 0 when unknown. */
  readonly line: number;
  /** 1-based first line of the function; 0 when unknown. */
  readonly startLine: number;
  readonly column?: number;
  /**
   * Functions inlined into this frame's code at its position, innermost first: the frame's
   * Location gets one Line per function, these first and the frame itself last (pprof's order).
   */
  readonly inline?: readonly Frame[];
}

export interface ProfileHeader {
  readonly sampleTypes: readonly ValueType[];
  readonly periodType?: ValueType;
  readonly period?: number;
  readonly timeNanos?: number;
  readonly durationNanos?: number;
  readonly comments?: readonly string[];
  readonly defaultSampleType?: string;
  readonly dropFrames?: string;
  readonly keepFrames?: string;
  /**
   * The one mapping every location belongs to. pprof reads has_functions etc. from it and then
   * leaves our symbols alone; without one it prints "Main binary filename not available".
   */
  readonly mapping?: { readonly filename: string; readonly buildId?: string };
}

function labelKey(labels: readonly Label[]): string {
  let k = '';
  for (const l of labels) k += `\u0001${l.key}\u0002${l.str ?? ''}\u0002${l.num ?? ''}\u0002${l.numUnit ?? ''}`;
  return k;
}

export class ProfileBuilder {
  private readonly functions: ProfileFunction[] = [];
  private readonly functionIds = new Map<string, number>();
  private readonly locations: Location[] = [];
  private readonly locationIds = new Map<string, number>();
  private readonly samples: { locationIds: number[]; values: number[]; labels: readonly Label[] }[] = [];
  private readonly sampleIndex = new Map<string, number>();
  /** Whether a location holds an inline chain (the mapping's has_inline_frames). */
  private inlined = false;

  constructor(private readonly header: ProfileHeader) {}

  /** The id of the function with these fields, added on first use. */
  functionId(name: string, systemName: string, filename: string, startLine: number): number {
    const key = `${name}\u0000${systemName}\u0000${filename}\u0000${startLine}`;
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length + 1;
      this.functions.push({ id, name, systemName, filename, startLine });
      this.functionIds.set(key, id);
    }
    return id;
  }

  /** The id of a single-line location in `functionId` at `line`, added on first use. */
  locationId(functionId: number, line: number, column = 0): number {
    return this.linesId([{ functionId, line, column }]);
  }

  /** The id of a location with these lines (innermost first: inlined functions, then their caller), added on first use. */
  linesId(lines: readonly Line[]): number {
    let key = '';
    for (const l of lines) key += `${l.functionId}:${l.line}:${l.column};`;
    let id = this.locationIds.get(key);
    if (id === undefined) {
      id = this.locations.length + 1;
      this.locations.push({
        id,
        mappingId: this.header.mapping ? 1 : 0,
        address: 0,
        lines: lines.map((l) => ({ ...l })),
        isFolded: false,
      });
      this.locationIds.set(key, id);
      if (lines.length > 1) this.inlined = true;
    }
    return id;
  }

  /** The location id of a frame and the functions inlined into it (functions and locations deduplicated). */
  frameId(frame: Frame): number {
    const own = { functionId: this.frameFunction(frame), line: frame.line, column: frame.column ?? 0 };
    if (!frame.inline?.length) return this.linesId([own]);
    return this.linesId([
      ...frame.inline.map((f) => ({ functionId: this.frameFunction(f), line: f.line, column: f.column ?? 0 })),
      own,
    ]);
  }

  private frameFunction(frame: Frame): number {
    return this.functionId(frame.name, frame.systemName ?? frame.name, frame.file, frame.startLine);
  }

  /**
   * Adds `values` to the sample with this stack (leaf first) and labels, creating it if new.
   * `values` must have one entry per sample type.
   */
  addSample(locationIds: readonly number[], values: readonly number[], labels: readonly Label[] = []): void {
    if (values.length !== this.header.sampleTypes.length) {
      throw new RangeError(
        `sample has ${values.length} values, profile has ${this.header.sampleTypes.length} sample types`,
      );
    }
    const key = `${locationIds.join(',')}${labelKey(labels)}`;
    const at = this.sampleIndex.get(key);
    if (at !== undefined) {
      const existing = this.samples[at].values;
      for (let i = 0; i < values.length; i++) existing[i] += values[i];
      return;
    }
    this.sampleIndex.set(key, this.samples.length);
    this.samples.push({ locationIds: [...locationIds], values: [...values], labels });
  }

  /** Adds a sample given as frames, leaf first. */
  addFrames(frames: readonly Frame[], values: readonly number[], labels: readonly Label[] = []): void {
    this.addSample(
      frames.map((f) => this.frameId(f)),
      values,
      labels,
    );
  }

  build(): Profile {
    const h = this.header;
    return {
      ...emptyProfile,
      sampleTypes: h.sampleTypes,
      samples: this.samples as Sample[],
      mappings: h.mapping
        ? [
            {
              id: 1,
              memoryStart: 0,
              memoryLimit: 0,
              fileOffset: 0,
              filename: h.mapping.filename,
              buildId: h.mapping.buildId ?? '',
              hasFunctions: true,
              hasFilenames: true,
              hasLineNumbers: true,
              hasInlineFrames: this.inlined,
            },
          ]
        : [],
      locations: this.locations,
      functions: this.functions,
      periodType: h.periodType,
      period: h.period ?? 0,
      timeNanos: h.timeNanos ?? 0,
      durationNanos: h.durationNanos ?? 0,
      comments: h.comments ?? [],
      defaultSampleType: h.defaultSampleType ?? '',
      dropFrames: h.dropFrames ?? '',
      keepFrames: h.keepFrames ?? '',
    };
  }
}
