/**
 * The GitHub Actions workflow of docs/ci/github-actions.yml, run here: its "Profile base and
 * head" and "Check" steps, extracted from the file and run with bash as Actions runs them, on two
 * copies of fixtures/proving-ground laid out as the workflow checks them out (`base/`, `head/`).
 * Head's `uniqBy` does its work 11 times per call (a code change). Kept short for npm test: PERF_RUNS=3 and
 * one file of the suite (PROVING_GROUND_FILES=uniq, five benchmarks); docs/CI.md has the
 * calibration on the whole suite.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = path.join(REPO, 'fixtures/proving-ground');
const WORKFLOW = path.join(REPO, 'docs/ci/github-actions.yml');

/** The `run: |` block of the step named `name`, dedented, as Actions hands it to bash. */
export function stepScript(yaml: string, name: string): string {
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.trim() === `- name: ${name}`);
  if (at < 0) throw new Error(`no step "${name}" in the workflow`);
  const run = lines.findIndex((l, i) => i > at && /^\s+run: \|$/.test(l));
  const indent = lines[run].indexOf('run:');
  const body: string[] = [];
  for (const l of lines.slice(run + 1)) {
    if (l.trim() !== '' && l.search(/\S/) <= indent) break;
    body.push(l);
  }
  const pad = Math.min(...body.filter((l) => l.trim()).map((l) => l.search(/\S/)));
  return (
    body
      .map((l) => l.slice(pad))
      .join('\n')
      .trim() + '\n'
  );
}

/** A checkout of the fixture at `dir`, with the packages the workflow's npx calls find in node_modules. */
function checkout(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['bench', 'src', 'package.json', 'vitest.config.ts'])
    cpSync(path.join(FIXTURE, f), path.join(dir, f), { recursive: true });
  const tsconfig = JSON.parse(readFileSync(path.join(FIXTURE, 'tsconfig.json'), 'utf8'));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ ...tsconfig, extends: path.join(REPO, 'tsconfig.base.json') }),
  );
  const modules = path.join(dir, 'node_modules');
  mkdirSync(path.join(modules, '.bin'), { recursive: true });
  const fromFixture = createRequire(path.join(FIXTURE, 'package.json'));
  symlinkSync(path.dirname(fromFixture.resolve('lodash/package.json')), path.join(modules, 'lodash'));
  symlinkSync(path.join(REPO, 'node_modules/vitest'), path.join(modules, 'vitest'));
  // What `npm ci` would link for the devDependencies vitest-perfprofile and @perfprofile/cli.
  for (const [bin, js] of [
    ['vitest-perf', 'packages/vitest/dist/cli.js'],
    ['perfprofile', 'packages/cli/dist/main.js'],
  ]) {
    writeFileSync(
      path.join(modules, '.bin', bin),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO, js)}" "$@"\n`,
    );
    chmodSync(path.join(modules, '.bin', bin), 0o755);
  }
}

/** The environment of a job step: no outer Vitest, no colours, CI set. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^VITEST|^TINYPOOL|^NODE_ENV$|^TEST$|^GITHUB_STEP_SUMMARY$|^PROVING_GROUND/.test(k)) out[k] = v;
  return { ...out, NO_COLOR: '1', CI: 'true', npm_config_yes: 'false', ...extra };
}

it("README's excerpt of the workflow is the workflow's own steps", () => {
  const yaml = readFileSync(WORKFLOW, 'utf8');
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const excerpt = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## CI:')))![1];
  for (const name of ['Profile base and head', 'Check']) {
    const shown = stepScript(excerpt, name)
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('#'));
    const real = stepScript(yaml, name)
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(shown, name).toEqual(real);
  }
});

describe('the GitHub Actions workflow, run locally on the proving ground', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'perfprofile-gate-e2e-'));
  const summary = path.join(work, 'step-summary.md');
  let profile: ReturnType<typeof spawnSync>;
  let check: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    // lodash is the fixture's own npm dependency (package-lock.json), outside the workspace.
    if (!existsSync(path.join(FIXTURE, 'node_modules/lodash'))) {
      const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: FIXTURE,
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(npm.status, `npm ci in fixtures/proving-ground: ${npm.stderr}`).toBe(0);
    }
    const yaml = readFileSync(WORKFLOW, 'utf8');
    checkout(path.join(work, 'base'));
    checkout(path.join(work, 'head'));
    // The pull request: uniqBy does its work 11 times (the fixture's own injection, switched on in code).
    const slow = path.join(work, 'head/src/slow.ts');
    const code = readFileSync(slow, 'utf8');
    expect(code).toContain('parseSpec(process.env.PROVING_GROUND_SLOW)');
    writeFileSync(slow, code.replace('parseSpec(process.env.PROVING_GROUND_SLOW)', "parseSpec('uniqBy:1000')"));
    writeFileSync(summary, '# earlier step\n');
    const step = (name: string) =>
      spawnSync('bash', ['-e', '-c', stepScript(yaml, name)], {
        cwd: work,
        encoding: 'utf8',
        env: env({ PERF_RUNS: '3', PROVING_GROUND_FILES: 'uniq', GITHUB_STEP_SUMMARY: summary }),
        timeout: 600_000,
      });
    profile = step('Profile base and head');
    check = step('Check');
  }, 900_000);

  it('profiles base and head alternately, each run a complete directory', () => {
    expect(profile.status, String(profile.stderr).slice(-3000)).toBe(0);
    const runs = readdirSync(path.join(work, 'perf')).filter((d) => /^(base|head)-/.test(d));
    expect(runs.sort()).toEqual(['base-1', 'base-2', 'base-3', 'head-1', 'head-2', 'head-3']);
    for (const d of runs) {
      const index = JSON.parse(readFileSync(path.join(work, 'perf', d, 'index.json'), 'utf8'));
      expect(index.complete, d).toBe(true);
      expect(index.benchmarks).toHaveLength(5);
    }
  });

  it('fails the job naming the benchmark and uniqBy, with the summary, report and flame graph', () => {
    expect(check.status, String(check.stdout) + String(check.stderr)).toBe(1);
    const out = String(check.stdout);
    expect(out).toMatch(/^perfprofile check: \d of 5 benchmarks regressed\n3 runs a side; CPU time per op/);
    // The benchmark, then the function that carries it and its callers, uniqBy among them.
    const block = /^ {2}FAIL uniq by key > ours uniqBy 10k people by email: .*(\n {7}.*)*/m.exec(out)?.[0] ?? '';
    expect(block).toMatch(/ per op \(\+\d+\.\d%, 90% confidence .*\n {7}in .*uniqBy/);
    const report = readFileSync(path.join(work, 'perf/report.md'), 'utf8');
    expect(report).toMatch(/\n\| ❌ \| uniq by key > ours uniqBy 10k people by email \| /);
    expect(report).toMatch(/\n#### uniq by key > ours uniqBy 10k people by email\n\n- time per op .*`uniqBy`/);
    expect(readFileSync(summary, 'utf8')).toBe(`# earlier step\n${report}\n`);
    const flames = readdirSync(path.join(work, 'perf/flame-diff'));
    expect(flames).toContain(
      readdirSync(path.join(work, 'perf/head-1'))
        .find((f) => f.startsWith('uniq.bench--uniq-by-key--ours-uniqby-10k'))!
        .replace(/\.pb\.gz$/, '.html'),
    );
    // Unchanged benchmarks of the same file pass: the lodash one never calls ours.
    expect(out).toMatch(/\n  ok   uniq by key > lodash uniqBy 10k people by email: /);
    expect(existsSync(path.join(work, 'perf/base-1/merged.pb.gz'))).toBe(true);
  });
});
