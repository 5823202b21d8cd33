/**
 * Analysis shared by the CLI and the reporter: flat (self) and cumulative totals per function,
 * over one sample column, optionally narrowed by a focus regexp or label filters.
 */
import { ProfileError } from './errors.js';
import { byText } from './text.js';
import { ProfileIndex, sampleIndexOf, type Profile, type ProfileFunction, type Sample } from './model.js';

export interface FunctionRow {
  readonly name: string;
  readonly file: string;
  /** The function's first line (pprof's start_line). */
  readonly line: number;
  readonly flat: number;
  readonly cum: number;
  /** Percent of the total of the selected samples. */
  readonly flatPct: number;
  readonly cumPct: number;
}

export interface AnalysisOptions {
  /** Sample column by type name (`cpu`, `samples`, `page-faults`) or index; default column otherwise. */
  readonly sampleIndex?: string | number;
  /** Keep only samples with a frame whose function name matches. */
  readonly focus?: RegExp;
  /** Keep only samples carrying all these labels (`benchmark=...`). */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface FunctionTable {
  /** Column used, e.g. `cpu/nanoseconds`. */
  readonly valueType: string;
  readonly total: number;
  /** Sorted by flat, then cum, descending. */
  readonly rows: readonly FunctionRow[];
}

/** Resolves a sample column option to an index, or throws ERR_USAGE naming the known columns. */
export function resolveSampleIndex(profile: Profile, which: string | number | undefined): number {
  const i = typeof which === 'number' ? which : sampleIndexOf(profile, which);
  if (i < 0 || i >= profile.sampleTypes.length) {
    throw new ProfileError(
      'ERR_USAGE',
      `no sample type ${JSON.stringify(which)} in this profile`,
      `choose one of ${profile.sampleTypes.map((t) => t.type).join(', ')}`,
    );
  }
  return i;
}

/** The column for counting samples: the one asked for, else `samples` when the profile has it, else the default. */
export function countColumn(profile: Profile, which: string | number | undefined): number {
  return resolveSampleIndex(
    profile,
    which ?? (profile.sampleTypes.some((t) => t.type === 'samples') ? 'samples' : undefined),
  );
}

/** The samples an analysis counts, after focus and tag filters. */
export function selectSamples(
  profile: Profile,
  options: AnalysisOptions = {},
  index = new ProfileIndex(profile),
): Sample[] {
  const tags = Object.entries(options.tags ?? {});
  return profile.samples.filter((s) => {
    for (const [k, v] of tags) if (!s.labels.some((l) => l.key === k && (l.str ?? String(l.num)) === v)) return false;
    if (options.focus) {
      const re = options.focus;
      return s.locationIds.some((id) => index.frames(id).some((f) => re.test(f.fn.name)));
    }
    return true;
  });
}

/** Self and cumulative totals per key, over one sample column, as {@link functionTotals} counts them. */
export interface FunctionTotals<K> {
  /** Column used, e.g. `cpu/nanoseconds`. */
  readonly valueType: string;
  readonly total: number;
  /** In order of first appearance; `fn` is the first function seen with the key. */
  readonly byKey: Map<K, { readonly fn: ProfileFunction; self: number; cum: number }>;
}

/**
 * Self (leaf) and cumulative totals over the selected samples, per `keyOf(function)`: functions
 * with one key are one entry, counted once per sample in cum (so recursion, or two closures
 * merged by name, never add up to more than the total).
 */
export function functionTotals<K>(
  profile: Profile,
  options: AnalysisOptions,
  keyOf: (fn: ProfileFunction) => K,
): FunctionTotals<K> {
  const column = resolveSampleIndex(profile, options.sampleIndex);
  const index = new ProfileIndex(profile);
  const byKey: FunctionTotals<K>['byKey'] = new Map();
  const seen = new Set<K>();
  let total = 0;
  for (const s of selectSamples(profile, options, index)) {
    const v = s.values[column];
    total += v;
    seen.clear();
    s.locationIds.forEach((id, depth) => {
      index.frames(id).forEach(({ fn }, inner) => {
        const k = keyOf(fn);
        let e = byKey.get(k);
        if (!e) byKey.set(k, (e = { fn, self: 0, cum: 0 }));
        if (depth === 0 && inner === 0) e.self += v;
        if (!seen.has(k)) {
          seen.add(k);
          e.cum += v;
        }
      });
    });
  }
  const t = profile.sampleTypes[column];
  return { valueType: `${t.type}/${t.unit}`, total, byKey };
}

/** Flat and cumulative totals per function; a recursive function counts once per sample in cum. */
export function functionTable(profile: Profile, options: AnalysisOptions = {}): FunctionTable {
  const { valueType, total, byKey } = functionTotals(profile, options, (fn) => fn.id);
  const pct = (x: number) => (total === 0 ? 0 : (100 * x) / total);
  const rows = [...byKey.values()].map(({ fn, self, cum }) => ({
    name: fn.name,
    file: fn.filename,
    line: fn.startLine,
    flat: self,
    cum,
    flatPct: pct(self),
    cumPct: pct(cum),
  }));
  rows.sort((a, b) => b.flat - a.flat || b.cum - a.cum || byText(a.name, b.name));
  return { valueType, total, rows };
}

/** The top `n` functions by self share, as index.json and the reporter show them. */
export function topSelf(
  profile: Profile,
  n = 5,
  options: AnalysisOptions = {},
): { function: string; file: string; line: number; selfPct: number }[] {
  return functionTable(profile, options)
    .rows.filter((r) => r.flat > 0)
    .slice(0, n)
    .map((r) => ({ function: r.name, file: r.file, line: r.line, selfPct: Math.round(r.flatPct * 100) / 100 }));
}
