#!/usr/bin/env node
// `npm run lint`: prettier (format), eslint with typescript-eslint (TS/JS rules) and
// clang-format (C++; the npm package's linux-x64 binary, so no system install), each over the
// whole tree; `--fix` rewrites instead of checking.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fix = process.argv.includes('--fix');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const cxx = ['native/src', 'native/bench']
  .flatMap((dir) => readdirSync(path.join(root, dir)).map((f) => path.join(dir, f)))
  .filter((f) => /\.(cc|h|c)$/.test(f));

const steps = [
  ['prettier', [bin('prettier'), fix ? '--write' : '--check', '--log-level=warn', '.']],
  ['eslint', [bin('eslint'), ...(fix ? ['--fix'] : []), '.']],
  [
    'clang-format',
    [
      path.join(root, 'node_modules', 'clang-format', 'bin', 'linux_x64', 'clang-format'),
      '--style=file',
      ...(fix ? ['-i'] : ['--dry-run', '-Werror']),
      ...cxx,
    ],
  ],
];
let failed = 0;
for (const [name, [cmd, ...args]] of steps) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`lint: ${name} failed${fix ? '' : ' (`npm run format` fixes formatting)'}`);
  }
}
if (!failed) console.log(`lint: prettier, eslint and clang-format clean${fix ? ' (fixed)' : ''}`);
process.exit(failed ? 1 : 0);
