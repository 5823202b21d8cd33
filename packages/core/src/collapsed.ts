/**
 * Collapsed stacks, the text format of flamegraph.pl and speedscope: one line per distinct
 * stack, frames root first joined by `;`, then a space and the weight (`main;run;hot 42`).
 * Function names are the frames; files and lines do not survive the trip.
 */
import { countColumn, selectSamples, type AnalysisOptions } from './analysis.js';
import { ProfileBuilder } from './builder.js';
import { ProfileError } from './errors.js';
import { ProfileIndex, type Profile } from './model.js';
import { byText } from './text.js';

/** The profile's stacks (one column) as collapsed lines, merged and sorted; zero weights dropped. */
export function toCollapsed(profile: Profile, options: AnalysisOptions = {}): string {
  // Counts read best in collapsed form: the samples column unless another is asked for.
  const column = countColumn(profile, options.sampleIndex);
  const index = new ProfileIndex(profile);
  const weights = new Map<string, number>();
  for (const s of selectSamples(profile, options, index)) {
    const v = s.values[column];
    if (!v) continue;
    const names: string[] = [];
    // Leaf first, inlined frames innermost first: reversed, that is root first.
    for (const id of s.locationIds)
      for (const f of index.frames(id)) names.push(f.fn.name.replace(/;/g, ':') || '(anonymous)');
    const key = names.reverse().join(';');
    weights.set(key, (weights.get(key) ?? 0) + v);
  }
  return (
    [...weights]
      .sort(([a], [b]) => byText(a, b))
      .map(([k, v]) => `${k} ${v}`)
      .join('\n') + (weights.size ? '\n' : '')
  );
}

/** True when text looks like collapsed stacks (every non-empty line ends in a count). */
export function looksCollapsed(text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.length > 0 && lines.every((l) => /^\S.*\s\d+$/.test(l.trimEnd()));
}

/** Parses collapsed stacks into a profile with one `samples/count` column. */
export function fromCollapsed(text: string, what = 'input'): Profile {
  const builder = new ProfileBuilder({
    sampleTypes: [{ type: 'samples', unit: 'count' }],
    defaultSampleType: 'samples',
    mapping: { filename: 'collapsed' },
  });
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (line.trim() === '') return;
    const m = /^(.*\S)\s+(\d+)$/.exec(line);
    if (!m)
      throw new ProfileError(
        'ERR_DECODE',
        `${what} line ${i + 1} is not "frame;frame;... count": ${JSON.stringify(line.slice(0, 80))}`,
        'collapsed stacks end each line in a space and a whole number',
      );
    const frames = m[1].split(';');
    if (frames.some((f) => f === ''))
      throw new ProfileError(
        'ERR_DECODE',
        `${what} line ${i + 1} has an empty frame`,
        'frames are separated by single ";"',
      );
    const count = Number(m[2]);
    if (!Number.isSafeInteger(count))
      throw new ProfileError(
        'ERR_DECODE',
        `${what} line ${i + 1} has count ${m[2].slice(0, 24)}, beyond ${Number.MAX_SAFE_INTEGER}`,
        'counts must be whole numbers below 2^53',
      );
    builder.addFrames(
      frames.reverse().map((name) => ({ name, file: '', line: 0, startLine: 0 })),
      [count],
    );
  });
  return builder.build();
}
