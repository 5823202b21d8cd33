/**
 * Merging profiles: functions and locations are deduplicated by content, samples with equal
 * stacks and labels are folded. Profiles must have identical sample types (type and unit, in
 * order) or the merge fails with ERR_MERGE.
 */
import { ProfileBuilder } from './builder.js';
import { ProfileError } from './errors.js';
import { ProfileIndex, type Label, type Profile } from './model.js';

export interface MergeInput {
  readonly profile: Profile;
  /** Labels added to every sample of this profile (e.g. benchmark=<name>). */
  readonly labels?: readonly Label[];
}

const typesText = (p: Profile) => p.sampleTypes.map((t) => `${t.type}/${t.unit}`).join(',');

/** Merges profiles into one; the result spans from the earliest start to the latest end. */
export function merge(inputs: readonly (Profile | MergeInput)[]): Profile {
  const items = inputs.map((i) => ('profile' in i ? i : { profile: i as Profile }));
  if (items.length === 0) throw new ProfileError('ERR_MERGE', 'nothing to merge', 'pass at least one profile');
  const first = items[0].profile;
  const want = typesText(first);
  items.forEach((item, n) => {
    const got = typesText(item.profile);
    if (got !== want)
      throw new ProfileError(
        'ERR_MERGE',
        `profile ${n + 1} has sample types [${got}], profile 1 has [${want}]`,
        'merge profiles recorded with the same events',
      );
  });
  const started = items.map((i) => i.profile.timeNanos).filter((t) => t > 0);
  const start = started.length ? Math.min(...started) : 0;
  const end = Math.max(...items.map((i) => i.profile.timeNanos + i.profile.durationNanos));
  const comments = [...new Set(items.flatMap((i) => i.profile.comments))];
  const builder = new ProfileBuilder({
    sampleTypes: first.sampleTypes,
    periodType: first.periodType,
    period: first.period,
    timeNanos: start,
    durationNanos: start ? end - start : items.reduce((a, i) => a + i.profile.durationNanos, 0),
    comments,
    defaultSampleType: first.defaultSampleType,
    dropFrames: first.dropFrames,
    keepFrames: first.keepFrames,
    mapping: first.mappings[0]
      ? { filename: first.mappings[0].filename, buildId: first.mappings[0].buildId }
      : undefined,
  });
  for (const { profile, labels = [] } of items) {
    const index = new ProfileIndex(profile);
    const idMap = new Map<number, number>();
    const mapped = (locationId: number): number => {
      let id = idMap.get(locationId);
      if (id === undefined) {
        // Every line (the inline chain, innermost first), its function renumbered by content.
        id = builder.linesId(
          index.locations.get(locationId)!.lines.map((line) => {
            const fn = index.functions.get(line.functionId)!;
            return {
              functionId: builder.functionId(fn.name, fn.systemName, fn.filename, fn.startLine),
              line: line.line,
              column: line.column,
            };
          }),
        );
        idMap.set(locationId, id);
      }
      return id;
    };
    for (const s of profile.samples)
      builder.addSample(s.locationIds.map(mapped), s.values, labels.length ? [...s.labels, ...labels] : s.labels);
  }
  return builder.build();
}
