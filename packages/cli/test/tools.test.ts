/**
 * scripts/tools.mjs: how npm test finds go and Chromium, when it may install them, and how the
 * tests needing them are skipped (outside CI) or fail (in CI), counted in the closing line.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureTools, findTool, installPlan, skips, skipSummary } from '../../../scripts/tools.mjs';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const hidden = { PERFPROFILE_GO: '/nonexistent/go', PERFPROFILE_CHROMIUM: '/nonexistent/chromium' };

/** A PATH directory holding an executable `go` and a `chromium` that is not executable. */
function fakePath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-tools-'));
  writeFileSync(path.join(dir, 'go'), '#!/bin/sh\n');
  chmodSync(path.join(dir, 'go'), 0o755);
  writeFileSync(path.join(dir, 'chromium'), '');
  return dir;
}

describe('finding a tool', () => {
  it('looks on PATH for an executable file, or where its variable says', () => {
    const dir = fakePath();
    expect(findTool('go', { PATH: `/nonexistent${path.delimiter}${dir}` })).toBe(path.join(dir, 'go'));
    expect(findTool('chromium', { PATH: dir })).toBeUndefined();
    expect(findTool('go', { PATH: '' })).toBeUndefined();
    expect(findTool('go', { PATH: dir, PERFPROFILE_GO: '/nonexistent/go' })).toBeUndefined();
    expect(findTool('go', { PATH: dir, PERFPROFILE_GO: dir })).toBeUndefined(); // a directory
    expect(findTool('chromium', { PATH: '', PERFPROFILE_CHROMIUM: path.join(dir, 'go') })).toBe(path.join(dir, 'go'));
    expect(findTool('chromium', { PATH: dir, PERFPROFILE_CHROMIUM: 'go' })).toBe(path.join(dir, 'go'));
  });

  it('skips the checks of a missing tool, except in CI', () => {
    const dir = fakePath();
    expect(skips('go', { PATH: dir })).toBe(false);
    expect(skips('chromium', { PATH: dir })).toBe(true);
    expect(skips('chromium', { PATH: dir, CI: 'false' })).toBe(true);
    expect(skips('chromium', { PATH: dir, CI: 'true' })).toBe(false);
    expect(skips('chromium', { PATH: dir, CI: '1' })).toBe(false);
  });
});

describe('installing', () => {
  const debianRoot = { debian: true, root: true, aptGet: true };

  it('apt-installs as root on Debian only, not when told not to, not what a variable points at', () => {
    expect(installPlan(['go', 'chromium'], {}, debianRoot)).toEqual({ packages: ['golang-go', 'chromium'] });
    expect(installPlan(['go', 'chromium'], { PERFPROFILE_CHROMIUM: '/opt/chrome' }, debianRoot)).toEqual({
      packages: ['golang-go'],
    });
    expect(installPlan([], {}, debianRoot)).toEqual({ packages: [] });
    expect(installPlan(['go'], { PERFPROFILE_NO_INSTALL: '1' }, debianRoot)).toEqual({
      packages: [],
      reason: 'PERFPROFILE_NO_INSTALL is set',
    });
    expect(installPlan(['go'], { PERFPROFILE_NO_INSTALL: '0' }, debianRoot)).toEqual({ packages: ['golang-go'] });
    expect(installPlan(['go'], {}, { ...debianRoot, debian: false })).toEqual({ packages: [], reason: 'not Debian' });
    expect(installPlan(['go'], {}, { ...debianRoot, root: false })).toEqual({ packages: [], reason: 'not root' });
    expect(installPlan(['go'], {}, { ...debianRoot, aptGet: false })).toEqual({ packages: [], reason: 'no apt-get' });
  });

  it('prints one line per tool still missing: where it looked or why not installed, what is skipped, how to install', () => {
    const lines: string[] = [];
    const missing = ensureTools(
      (l) => lines.push(l),
      { PATH: fakePath(), PERFPROFILE_GO: '/nonexistent/go' },
      { debian: true, root: false, aptGet: true },
    );
    expect(missing).toEqual(['go', 'chromium']);
    expect(lines).toEqual([
      expect.stringMatching(
        /^npm test: go not found at PERFPROFILE_GO=\/nonexistent\/go: go tool pprof cross-checks skipped; install Go .*golang-go/,
      ),
      expect.stringMatching(
        /^npm test: chromium not found \(not installed: not root\): flame-graph browser test skipped; install Chromium .*PERFPROFILE_CHROMIUM/,
      ),
    ]);
    lines.length = 0;
    ensureTools((l) => lines.push(l), { PATH: '', CI: 'true' }, { debian: false, root: true, aptGet: false });
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/\(not installed: not Debian\): .* cannot run, a failure in CI;/);
  });
});

describe('a Vitest run with tests that need go and Chromium', () => {
  const fixture = path.join(REPO, 'packages/cli/test/fixtures/tools');

  function vitest(env: Record<string, string>) {
    const report = path.join(mkdtempSync(path.join(tmpdir(), 'perfprofile-tools-')), 'report.json');
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^VITEST|^TINYPOOL|^CI$|^NODE_ENV$/.test(k)),
    );
    const r = spawnSync(
      process.execPath,
      [path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=json', `--outputFile.json=${report}`],
      {
        cwd: fixture,
        encoding: 'utf8',
        env: { ...clean, ...env },
        timeout: 60_000,
      },
    );
    const json = JSON.parse(readFileSync(report, 'utf8'));
    const tests = Object.fromEntries(
      json.testResults[0].assertionResults.map((t: { title: string; status: string }) => [t.title, t.status]),
    );
    return { status: r.status, tests, summary: skipSummary([json]) };
  }

  it('without them skips only what needs them, and the closing line counts it', () => {
    const r = vitest(hidden);
    expect(r.status).toBe(0);
    expect(r.tests).toEqual({
      'needs go': 'skipped',
      one: 'skipped',
      two: 'skipped',
      'checks more than go': 'passed',
      'skipped by its own condition': 'skipped',
      'needs nothing': 'passed',
    });
    expect(r.summary).toEqual({
      line: 'npm test: 3 skipped, 1 ran without its cross-check: go not found (go tool pprof cross-checks), chromium not found (flame-graph browser test); 1 other skipped by its own condition',
      totals: 'tests: 2 passed, 0 failed, 4 skipped',
      failed: 0,
      forTools: 4,
    });
  });

  it('in CI runs them anyway, so a missing tool fails', () => {
    const r = vitest({ ...hidden, CI: 'true' });
    expect(r.status).toBe(1);
    expect(r.tests).toMatchObject({
      'needs go': 'failed',
      one: 'failed',
      two: 'failed',
      'checks more than go': 'failed',
      'needs nothing': 'passed',
    });
    expect(r.summary).toEqual({
      line: 'npm test: no test skipped for a missing tool; 1 other skipped by its own condition',
      totals: 'tests: 1 passed, 4 failed, 1 skipped',
      failed: 4,
      forTools: 0,
    });
  });

  it('with them runs every test', () => {
    const dir = fakePath();
    const r = vitest({ PERFPROFILE_GO: path.join(dir, 'go'), PERFPROFILE_CHROMIUM: path.join(dir, 'go') });
    expect(r.tests).toMatchObject({
      'needs go': 'failed',
      one: 'failed',
      two: 'failed',
      'checks more than go': 'failed',
    });
    expect(r.summary.forTools).toBe(0);
  });
});
