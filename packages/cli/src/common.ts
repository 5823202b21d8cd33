/**
 * What the analysis commands share on the way in: reading a target (a profile in any format, or
 * a vitest-perfprofile output directory) and parsing their number, size and filter options.
 */
import {
  DEFAULT_MAX_DECODED_BYTES,
  isRunDir,
  loadProfile,
  ProfileError,
  readRunDir,
  type AnalysisOptions,
  type Profile,
  type RunDir,
} from '@perfprofile/core';
import type { FlagSpec, ParsedArgs } from './args.js';

export type Target =
  | { readonly kind: 'profile'; readonly path: string; readonly profile: Profile }
  | { readonly kind: 'dir'; readonly path: string; readonly run: RunDir };

/** Input size limit (bytes, compressed or inflated) for every file read; `--max-bytes` sets it. */
export const limits = { maxBytes: DEFAULT_MAX_DECODED_BYTES };

/** A profile file (pprof, .cpuprofile, collapsed) or an output directory with index.json. */
export function readTarget(p: string): Target {
  if (isRunDir(p)) return { kind: 'dir', path: p, run: readRunDir(p, limits) };
  return { kind: 'profile', path: p, profile: loadProfile(p, limits) };
}

/** `--max-bytes <n>` anywhere in argv (k/M/G suffixes, powers of 1024): removed, and applied. */
export function takeMaxBytes(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    if (a !== '--max-bytes' && !a.startsWith('--max-bytes=')) {
      out.push(a);
      continue;
    }
    const raw = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
    const m = /^(\d+)([kKmMgG]?)$/.exec(raw ?? '');
    if (!m || Number(m[1]) <= 0)
      throw new ProfileError(
        'ERR_USAGE',
        `--max-bytes needs a size such as 64M or 2G, got "${raw ?? ''}"`,
        'e.g. --max-bytes 1G',
      );
    limits.maxBytes = Number(m[1]) * 1024 ** ' kmg'.indexOf(m[2].toLowerCase() || ' ');
  }
  return out;
}

/** A positive integer option, or its default. */
export function intFlag(command: string, args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new ProfileError(
      'ERR_USAGE',
      `${command}: --${name} needs a positive whole number, got "${raw}"`,
      `e.g. --${name} 20`,
    );
  return n;
}

/** A non-negative number option (an optional `%` or `pp` suffix is allowed and ignored). */
export function numberFlag(command: string, args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.flags[name];
  if (raw === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)\s*(%|pp)?$/.exec(String(raw).trim());
  if (!m) throw new ProfileError('ERR_USAGE', `${command}: --${name} needs a number, got "${raw}"`, `e.g. --${name} 5`);
  return Number(m[1]);
}

/** The flags top and diff share: rows, sample column, focus, tags, JSON output. */
export const ANALYSIS_FLAGS: readonly FlagSpec[] = [
  { name: 'nodes', short: 'n', type: 'string' },
  { name: 'sample-index', type: 'string' },
  { name: 'focus', type: 'string' },
  { name: 'tag', type: 'list' },
  { name: 'json', type: 'boolean' },
];

/** --sample-index, --focus and repeated --tag k=v as analysis options. */
export function analysisOptions(command: string, args: ParsedArgs): AnalysisOptions {
  const tags: Record<string, string> = {};
  for (const t of (args.flags.tag as string[] | undefined) ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0)
      throw new ProfileError(
        'ERR_USAGE',
        `${command}: --tag needs key=value, got "${t}"`,
        'e.g. --tag benchmark="hash > fnv1a sync"',
      );
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  let focus: RegExp | undefined;
  if (args.flags.focus !== undefined) {
    try {
      focus = new RegExp(String(args.flags.focus));
    } catch (e) {
      throw new ProfileError(
        'ERR_USAGE',
        `${command}: --focus is not a valid regular expression: ${(e as Error).message}`,
        'e.g. --focus "^hash"',
      );
    }
  }
  return { sampleIndex: args.flags['sample-index'] as string | undefined, focus, tags };
}
