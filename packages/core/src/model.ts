/**
 * The in-memory profile: plain data, shaped like pprof's Profile but with strings inline and
 * ids as plain numbers. The wire format (string table, varints, gzip) lives in encode.ts and
 * decode.ts; nothing here knows about protobuf.
 */

export interface ValueType {
  readonly type: string;
  readonly unit: string;
}

export interface ProfileFunction {
  /** Nonzero, unique within the profile. */
  readonly id: number;
  /** Human-readable name, e.g. `hot` or `(garbage collector)`. */
  readonly name: string;
  /** Name as the system knows it (for V8: with the tier marker, `*hot`). */
  readonly systemName: string;
  /** Source file: the user's original file after source maps, relative when possible. */
  readonly filename: string;
  readonly startLine: number;
}

export interface Line {
  readonly functionId: number;
  readonly line: number;
  readonly column: number;
}

export interface Location {
  /** Nonzero, unique within the profile. */
  readonly id: number;
  readonly mappingId: number;
  readonly address: number;
  /** Innermost first; the last entry is the caller into which the others were inlined. */
  readonly lines: readonly Line[];
  readonly isFolded: boolean;
}

export interface Mapping {
  readonly id: number;
  readonly memoryStart: number;
  readonly memoryLimit: number;
  readonly fileOffset: number;
  readonly filename: string;
  readonly buildId: string;
  readonly hasFunctions: boolean;
  readonly hasFilenames: boolean;
  readonly hasLineNumbers: boolean;
  readonly hasInlineFrames: boolean;
}

/** A label is a string (`str`) or a number (`num`, optionally with `numUnit`), never both. */
export interface Label {
  readonly key: string;
  readonly str?: string;
  readonly num?: number;
  readonly numUnit?: string;
}

export interface Sample {
  /** Leaf first. */
  readonly locationIds: readonly number[];
  /** One per Profile.sampleTypes entry. */
  readonly values: readonly number[];
  readonly labels: readonly Label[];
}

export interface Profile {
  readonly sampleTypes: readonly ValueType[];
  readonly samples: readonly Sample[];
  readonly mappings: readonly Mapping[];
  readonly locations: readonly Location[];
  readonly functions: readonly ProfileFunction[];
  readonly dropFrames: string;
  readonly keepFrames: string;
  /** Unix nanoseconds. Numbers: exact to ~256 ns at today's epoch, which pprof only displays. */
  readonly timeNanos: number;
  readonly durationNanos: number;
  readonly periodType: ValueType | undefined;
  readonly period: number;
  readonly comments: readonly string[];
  /** Type of the column pprof shows by default; '' = the last one. */
  readonly defaultSampleType: string;
  readonly docUrl: string;
}

/** A profile with nothing in it, to spread over. */
export const emptyProfile: Profile = Object.freeze({
  sampleTypes: [],
  samples: [],
  mappings: [],
  locations: [],
  functions: [],
  dropFrames: '',
  keepFrames: '',
  timeNanos: 0,
  durationNanos: 0,
  periodType: undefined,
  period: 0,
  comments: [],
  defaultSampleType: '',
  docUrl: '',
});

/** Lookup tables over a profile's ids, built once per analysis. */
export class ProfileIndex {
  readonly functions = new Map<number, ProfileFunction>();
  readonly locations = new Map<number, Location>();

  constructor(readonly profile: Profile) {
    for (const f of profile.functions) this.functions.set(f.id, f);
    for (const l of profile.locations) this.locations.set(l.id, l);
  }

  /** The location's frames, innermost (inlined) first. */
  frames(locationId: number): { fn: ProfileFunction; line: number }[] {
    const loc = this.locations.get(locationId);
    if (!loc) return [];
    return loc.lines.map((l) => ({ fn: this.functions.get(l.functionId)!, line: l.line }));
  }
}

/** The index of a sample type by name (`cpu`, `samples`), or the default column when omitted. */
export function sampleIndexOf(profile: Profile, type?: string): number {
  const types = profile.sampleTypes;
  if (type === undefined || type === '') {
    if (profile.defaultSampleType) {
      const i = types.findIndex((t) => t.type === profile.defaultSampleType);
      if (i >= 0) return i;
    }
    return types.length - 1;
  }
  const asNumber = /^\d+$/.test(type) ? Number(type) : -1;
  if (asNumber >= 0 && asNumber < types.length) return asNumber;
  return types.findIndex((t) => t.type === type || `${t.type}/${t.unit}` === type);
}
