import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ProfileError } from '@perfprofile/core';
import { parseArgs } from '../args.js';
import { readTarget } from '../common.js';
import { flameHtml, flameTree } from '../flame.js';

export const summary =
  'write a self-contained HTML flame graph (a root per benchmark, zoom, search, tooltips, tier colours)';
export const usage = `usage: perfprofile flame <profile> [-o flame.html]

One HTML file, no network: an icicle graph of the profile. Samples labeled benchmark=<name>
(everything vitest-perf writes, e.g. perf.out/merged.pb.gz) start under one root per benchmark,
named by that label. Hover a frame for its name, file:line, total and self (value, share,
samples); click to zoom, reset with the button or Escape; search names and file:line by regular
expression and see the matched share of samples; switch the sample type when the profile has
several, and colour by JIT tier (ignition, sparkplug, maglev, turbofan) from the tier labels.`;

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('flame', argv, [{ name: 'output', short: 'o', type: 'string' }]);
  if (args.flags.help) return (console.log(usage), 0);
  if (args.positionals.length !== 1)
    throw new ProfileError(
      'ERR_USAGE',
      'flame: needs exactly one profile',
      'perfprofile flame cpu.pb.gz -o flame.html',
    );
  const t = readTarget(args.positionals[0]);
  if (t.kind !== 'profile')
    throw new ProfileError(
      'ERR_USAGE',
      `flame: ${t.path} is a directory`,
      'pass one of its .pb.gz files, or its merged.pb.gz',
    );
  const out = String(args.flags.output ?? 'flame.html');
  writeFileSync(out, flameHtml(flameTree(t.profile, path.basename(t.path))));
  process.stderr.write(`perfprofile: flame graph → ${out}\n`);
  return 0;
}
