// The tools the cross-checks need besides Node: `go` (go tool pprof must read our profiles) and
// Chromium (the flame graph in a real browser). The one place that finds them, installs them
// (apt-get, as root on Debian) and decides whether the tests needing them run or are skipped.
// Plain Node for scripts/test.mjs; inside Vitest it also marks the tests it skips, so the run's
// JSON report says which tests and why.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';

/** What each tool is for, the variable naming its binary instead of PATH, its Debian package, how to get it. */
export const TOOLS = {
  go: {
    for: 'go tool pprof cross-checks',
    env: 'PERFPROFILE_GO',
    deb: 'golang-go',
    install:
      'install Go (Debian/Ubuntu: apt-get install golang-go; else https://go.dev/dl/) or set PERFPROFILE_GO to its go binary',
  },
  chromium: {
    for: 'flame-graph browser test',
    env: 'PERFPROFILE_CHROMIUM',
    deb: 'chromium',
    install:
      'install Chromium (Debian: apt-get install chromium) or set PERFPROFILE_CHROMIUM to a Chromium or Chrome binary',
  },
};

// Only inside Vitest: the running test, to mark a check skipped in it.
const runner = process.env.VITEST ? (await import('vitest')).TestRunner : undefined;

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `command` as the shell would find it: a path as is, a name on PATH; undefined when missing. */
function which(command, PATH = '') {
  if (command.includes('/')) return executable(command) ? path.resolve(command) : undefined;
  return PATH.split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find(executable);
}

/** The tool's binary: its variable if set (a path or a name), else `name` on PATH; undefined when missing. */
export function findTool(name, env = process.env) {
  return which(env[TOOLS[name].env] || name, env.PATH);
}

/** CI=true (any value but empty, 0 or false): there a missing tool fails its tests instead of skipping them. */
export function isCI(env = process.env) {
  return !!env.CI && env.CI !== '0' && env.CI !== 'false';
}

/** Whether the checks needing `name` are skipped: it is missing, outside CI. */
export function skips(name, env = process.env) {
  return !isCI(env) && !findTool(name, env);
}

/**
 * Vitest options for a test or suite that needs `name`: skipped, with the tool in its meta for
 * scripts/test.mjs's count, when skips(name); otherwise none (in CI it runs and fails).
 */
export function needs(name) {
  return skips(name) ? { skip: true, meta: { missingTools: [name] } } : {};
}

/**
 * Runs `check` (one cross-check inside a test that checks more) unless skips(name); then marks
 * the running test instead, so it passes on its other checks and is counted as without this one.
 */
export function crossCheck(name, check) {
  if (!skips(name)) return check();
  const test = runner?.getCurrentTest();
  if (!test) throw new Error(`crossCheck('${name}') must run inside a test`);
  test.meta.missingTools = [...new Set([...(test.meta.missingTools ?? []), name])];
  return undefined;
}

/** The tool's binary, or an error naming it and how to install it (what a CI run without it sees). */
export function toolPath(name) {
  const file = findTool(name);
  if (!file) throw new Error(`${name} not found (${TOOLS[name].for}): ${TOOLS[name].install}`);
  return file;
}

/** This machine, as installPlan needs it. */
export function thisHost() {
  return {
    debian: process.platform === 'linux' && existsSync('/etc/debian_version'),
    root: process.getuid?.() === 0,
    aptGet: !!which('apt-get', process.env.PATH),
  };
}

/**
 * The Debian packages to install for the `missing` tools, or why none: apt-get only as root on
 * Debian, never with PERFPROFILE_NO_INSTALL=1, and not for a tool whose variable names its
 * binary (installing would not put it there).
 */
export function installPlan(missing, env = process.env, host = thisHost()) {
  const packages = missing.filter((name) => !env[TOOLS[name].env]).map((name) => TOOLS[name].deb);
  const reason =
    packages.length === 0
      ? undefined
      : env.PERFPROFILE_NO_INSTALL && env.PERFPROFILE_NO_INSTALL !== '0'
        ? 'PERFPROFILE_NO_INSTALL is set'
        : !host.debian
          ? 'not Debian'
          : !host.root
            ? 'not root'
            : !host.aptGet
              ? 'no apt-get'
              : undefined;
  return reason ? { packages: [], reason } : { packages };
}

function aptGet(args) {
  const r = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 << 20,
  });
  if (r.status === 0) return undefined;
  const last = (r.error?.message ?? r.stderr ?? '').trim().split('\n').pop();
  return `apt-get ${args[0]} failed (${r.error ? 'not run' : `exit ${r.status}`}): ${last}`;
}

/**
 * Installs the missing tools where installPlan allows, then logs one line per tool still
 * missing: what it is for, what happens to its tests, how to get it. Returns the names still missing.
 */
export function ensureTools(log = console.log, env = process.env, host = thisHost()) {
  const names = Object.keys(TOOLS);
  const plan = installPlan(
    names.filter((name) => !findTool(name, env)),
    env,
    host,
  );
  let why = plan.reason;
  if (plan.packages.length) {
    log(
      `npm test: installing ${plan.packages.join(' ')} with apt-get (root on Debian; PERFPROFILE_NO_INSTALL=1 not to)`,
    );
    const failed =
      aptGet(['update', '-qq']) ?? aptGet(['install', '-y', '-qq', '--no-install-recommends', ...plan.packages]);
    if (failed) log(`npm test: ${failed}`);
    why = failed ? 'apt-get failed' : 'apt-get installed it but it is not on PATH';
  }
  const missing = names.filter((name) => !findTool(name, env));
  for (const name of missing) {
    const tool = TOOLS[name];
    const where = env[tool.env] ? ` at ${tool.env}=${env[tool.env]}` : why ? ` (not installed: ${why})` : '';
    log(
      `npm test: ${name} not found${where}: ${tool.for} ${isCI(env) ? 'cannot run, a failure in CI' : 'skipped'}; ${tool.install}`,
    );
  }
  return missing;
}

/**
 * The closing line of a run, from Vitest's JSON reports: the tests skipped for a missing tool,
 * the tests that ran without a cross-check, and the other skipped tests. `forTools` counts the
 * first two (CI allows none).
 */
export function skipSummary(reports) {
  let skipped = 0,
    partial = 0,
    other = 0,
    passed = 0,
    failed = 0;
  const tools = new Set();
  for (const report of reports) {
    for (const file of report.testResults) {
      for (const t of file.assertionResults) {
        const missing = t.meta?.missingTools ?? [];
        const ran = t.status === 'passed' || t.status === 'failed';
        if (t.status === 'passed') passed++;
        if (t.status === 'failed') failed++;
        for (const name of missing) tools.add(name);
        if (missing.length && ran) partial++;
        else if (missing.length) skipped++;
        else if (!ran) other++;
      }
    }
  }
  const why = [...tools].map((name) => `${name} not found (${TOOLS[name].for})`).join(', ');
  const parts = [
    skipped || partial
      ? `${skipped} skipped${partial ? `, ${partial} ran without ${partial === 1 ? 'its' : 'their'} cross-check` : ''}: ${why}`
      : 'no test skipped for a missing tool',
  ];
  if (other)
    parts.push(`${other} other${other === 1 ? '' : 's'} skipped by ${other === 1 ? 'its' : 'their'} own condition`);
  // The plain totals line a CI log reader looks for ('N passed, N failed, N skipped').
  const totals = `tests: ${passed} passed, ${failed} failed, ${skipped + other} skipped`;
  return { line: `npm test: ${parts.join('; ')}`, totals, failed, forTools: skipped + partial };
}
