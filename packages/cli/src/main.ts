#!/usr/bin/env node
/**
 * `perfprofile <command>`: each command is a module in commands/ exporting `summary`, `usage`
 * and `run(argv) → exit code`. Usage and input errors are ProfileErrors, printed here as one
 * line with exit code 2.
 */
import { formatError, isProfileError } from '@perfprofile/core';
import { takeMaxBytes } from './common.js';

interface Command {
  readonly summary: string;
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  record: () => import('./commands/record.js'),
  events: () => import('./commands/events.js'),
  top: () => import('./commands/top.js'),
  diff: () => import('./commands/diff.js'),
  check: () => import('./commands/check.js'),
  flame: () => import('./commands/flame.js'),
  convert: () => import('./commands/convert.js'),
  merge: () => import('./commands/merge.js'),
};

async function help(): Promise<string> {
  const lines = ['usage: perfprofile <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${(await load()).summary}`);
  lines.push(
    '',
    "perfprofile <command> --help shows a command's options. Commands that read profiles take",
    '--max-bytes <size> (default 256M): the most any input may be, compressed or inflated.',
  );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`perfprofile: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    const rest = name === 'record' ? args : takeMaxBytes(args);
    return await (await load()).run(rest);
  } catch (e) {
    if (isProfileError(e)) {
      process.stderr.write(formatError(e) + '\n');
      return 2;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`perfprofile: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 70;
  },
);
