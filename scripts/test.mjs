#!/usr/bin/env node
// `npm test` after setup: the tools the cross-checks need (scripts/tools.mjs: installed, or named
// and their tests skipped), every package's tests, then one line with how many tests were
// skipped and why, counted from Vitest's JSON report of each package. Arguments go to every
// package's Vitest (`npm test -- --passWithNoTests flame` runs the files matching `flame`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools, isCI, skipSummary } from './tools.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// Relative to each package (Vitest resolves it against its root), so each writes its own.
const REPORT = 'node_modules/.perfprofile/vitest-report.json';
const reports = ['native', ...readdirSync(path.join(root, 'packages')).map((p) => `packages/${p}`)].map((p) =>
  path.join(root, p, REPORT),
);

const missing = ensureTools();
if (missing.length && isCI()) {
  console.error(`npm test: CI runs every cross-check; missing: ${missing.join(', ')}`);
  process.exit(1);
}

for (const file of reports) rmSync(file, { force: true });
const r = spawnSync(
  process.execPath,
  [
    path.join(root, 'scripts/pnpm.mjs'),
    '-r',
    '--workspace-concurrency=1',
    '--no-bail',
    'run',
    'test',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${REPORT}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit' },
);

const summary = skipSummary(
  reports.filter((file) => existsSync(file)).map((file) => JSON.parse(readFileSync(file, 'utf8'))),
);
console.log(`\n${summary.line}\n${summary.totals}`);
if (isCI() && summary.forTools > 0) {
  console.error('npm test: CI must skip no cross-check');
  process.exit(1);
}
// --no-bail: every package's tests run and are counted even after one package fails.
process.exit(r.status === 0 && summary.failed === 0 ? 0 : 1);
