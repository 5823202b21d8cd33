/**
 * A small argv parser for the subcommands: flags declared up front, `--flag value`,
 * `--flag=value` and `-x value` forms, repeatable flags, and `--` ending the options.
 * Usage mistakes throw a ProfileError (ERR_USAGE), which main.ts prints as one line, exit 2.
 */
import { ProfileError } from '@perfprofile/core';

export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  /** 'boolean' flags take no value; 'string' flags take one; 'list' flags may repeat. */
  readonly type: 'boolean' | 'string' | 'list';
}

export interface ParsedArgs {
  readonly flags: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  /** Everything after `--`. */
  readonly rest: string[];
}

export function parseArgs(command: string, argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  const byName = new Map<string, FlagSpec>();
  for (const s of [...specs, { name: 'help', short: 'h', type: 'boolean' as const }]) {
    byName.set(`--${s.name}`, s);
    if (s.short) byName.set(`-${s.short}`, s);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') return { flags, positionals, rest: argv.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    const spec = byName.get(key);
    if (!spec)
      throw new ProfileError('ERR_USAGE', `${command}: unknown option ${key}`, `see perfprofile ${command} --help`);
    if (spec.type === 'boolean') {
      if (eq > 0 && arg.startsWith('--'))
        throw new ProfileError('ERR_USAGE', `${command}: ${key} takes no value`, `write ${key} alone`);
      flags[spec.name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq > 0 && arg.startsWith('--')) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined)
        throw new ProfileError('ERR_USAGE', `${command}: ${key} needs a value`, `see perfprofile ${command} --help`);
    }
    if (spec.type === 'list') flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), value];
    else flags[spec.name] = value;
  }
  return { flags, positionals, rest: [] };
}
