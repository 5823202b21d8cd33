/**
 * The per-function share diff (`perfprofile diff`, and what the gate weighs): self and total
 * share of one sample column before and after, functions matched by name and file (lines move
 * when code is edited).
 */
import { functionTotals, type AnalysisOptions } from './analysis.js';
import { ProfileError } from './errors.js';
import type { Profile } from './model.js';
import { byText } from './text.js';

export interface ShareRow {
  readonly name: string;
  readonly file: string;
  /** Self share (%) in the base and head profiles; 0 where the function is absent. */
  readonly before: number;
  readonly after: number;
  /** after − before, in percentage points. */
  readonly delta: number;
  /** Total (cumulative, self + callees) share (%) in base and head. */
  readonly cumBefore: number;
  readonly cumAfter: number;
  /** cumAfter − cumBefore, in percentage points. */
  readonly cumDelta: number;
}

export interface ShareDiff {
  readonly valueType: string;
  /** Sample counts (the `samples` column when present) behind each side's shares. */
  readonly baseSamples: number;
  readonly headSamples: number;
  /** Functions with self time on either side, sorted by |delta|, largest first. */
  readonly rows: readonly ShareRow[];
}

function sampleCount(profile: Profile): number {
  const i = profile.sampleTypes.findIndex((t) => t.type === 'samples');
  if (i < 0) return profile.samples.length;
  return profile.samples.reduce((a, s) => a + s.values[i], 0);
}

interface Share {
  readonly name: string;
  readonly file: string;
  readonly self: number;
  readonly cum: number;
}

/**
 * Self and total share (%) per function name and file. Functions that share both (two closures
 * of one file, one function at two start lines) are one entry, counted once per sample in cum,
 * so a nested pair of anonymous callbacks does not add up to more than 100%.
 */
function sharesOf(profile: Profile, options: AnalysisOptions): { valueType: string; byFunction: Map<string, Share> } {
  const { valueType, total, byKey } = functionTotals(profile, options, (fn) => `${fn.name}\u0000${fn.filename}`);
  const pct = (x: number) => (total ? (100 * x) / total : 0);
  const byFunction = new Map<string, Share>();
  for (const [k, { fn, self, cum }] of byKey)
    byFunction.set(k, { name: fn.name, file: fn.filename, self: pct(self), cum: pct(cum) });
  return { valueType, byFunction };
}

/**
 * Self and total share per function in `base` and `head`, sorted by the size of the self-share
 * change. A function whose self share grew while its total share did not has taken time over
 * from its callees (typically the JIT inlined one into it): `cumDelta` tells the two apart.
 */
export function diffProfiles(base: Profile, head: Profile, options: AnalysisOptions = {}): ShareDiff {
  const baseShares = sharesOf(base, options);
  const a = baseShares.byFunction;
  const b = sharesOf(head, options);
  if (baseShares.valueType !== b.valueType) {
    // Shares of different quantities (CPU time vs wall time, or faults) are not comparable.
    const common = base.sampleTypes.map((t) => t.type).filter((t) => head.sampleTypes.some((u) => u.type === t));
    throw new ProfileError(
      'ERR_INPUT',
      `base measures ${baseShares.valueType} but head measures ${b.valueType}`,
      common.length
        ? `pass --sample-index ${common.includes('samples') ? 'samples' : common[0]} to compare a column both have, or profile both with the same event`
        : 'profile both with the same event',
    );
  }
  const rows: ShareRow[] = [];
  for (const k of new Set([...a.keys(), ...b.byFunction.keys()])) {
    const x = a.get(k),
      y = b.byFunction.get(k);
    const before = x?.self ?? 0,
      after = y?.self ?? 0;
    if (before === 0 && after === 0) continue;
    const cumBefore = x?.cum ?? 0,
      cumAfter = y?.cum ?? 0;
    const { name, file } = (x ?? y)!;
    rows.push({
      name,
      file,
      before,
      after,
      delta: after - before,
      cumBefore,
      cumAfter,
      cumDelta: cumAfter - cumBefore,
    });
  }
  rows.sort((p, q) => Math.abs(q.delta) - Math.abs(p.delta) || byText(p.name, q.name));
  return { valueType: b.valueType, baseSamples: sampleCount(base), headSamples: sampleCount(head), rows };
}
