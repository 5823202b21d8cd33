/** `perfprofile convert`: any profile perfprofile reads to .cpuprofile, collapsed stacks or the model as JSON. */
import { writeFileSync } from 'node:fs';
import { ProfileError, toCollapsed, toCpuProfile } from '@perfprofile/core';
import { parseArgs } from '../args.js';
import { analysisOptions, readTarget } from '../common.js';

export const summary = 'convert a profile to .cpuprofile (DevTools, VS Code), collapsed stacks or JSON';
export const usage = `usage: perfprofile convert <profile> --to cpuprofile|collapsed|json [-o file] [--sample-index <type>]

  cpuprofile   Chrome's format: open in DevTools (Performance → Load profile) or VS Code
  collapsed    "root;...;leaf count" lines for flamegraph.pl and speedscope
  json         the profile model as JSON (functions, locations, samples)
Input may be pprof, .cpuprofile or collapsed stacks. Without -o the result goes to stdout.`;

const FORMATS = ['cpuprofile', 'collapsed', 'json'];

export async function run(argv: readonly string[]): Promise<number> {
  const args = parseArgs('convert', argv, [
    { name: 'to', type: 'string' },
    { name: 'output', short: 'o', type: 'string' },
    { name: 'sample-index', type: 'string' },
  ]);
  if (args.flags.help) return (console.log(usage), 0);
  const to = args.flags.to as string | undefined;
  if (!to || !FORMATS.includes(to))
    throw new ProfileError(
      'ERR_USAGE',
      `convert: --to must be one of ${FORMATS.join(', ')}${to ? ` (got "${to}")` : ''}`,
      'perfprofile convert cpu.pb.gz --to cpuprofile -o cpu.cpuprofile',
    );
  if (args.positionals.length !== 1)
    throw new ProfileError(
      'ERR_USAGE',
      'convert: needs exactly one input profile',
      'perfprofile convert cpu.pb.gz --to collapsed',
    );
  const t = readTarget(args.positionals[0]);
  if (t.kind !== 'profile')
    throw new ProfileError(
      'ERR_USAGE',
      `convert: ${t.path} is a directory`,
      'convert one of its .pb.gz files, or its merged.pb.gz',
    );
  const options = analysisOptions('convert', args);
  const text =
    to === 'cpuprofile'
      ? JSON.stringify(toCpuProfile(t.profile, options))
      : to === 'collapsed'
        ? toCollapsed(t.profile, options)
        : JSON.stringify(t.profile, null, 2) + '\n';
  if (args.flags.output) writeFileSync(String(args.flags.output), text);
  else process.stdout.write(text);
  return 0;
}
