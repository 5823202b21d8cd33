/**
 * The prebuilt addon, as a user without a C++ toolchain gets it: `pnpm pack` tarballs of
 * @perfprofile/native (whose prepack builds the prebuilt binaries), core and cli, installed with
 * plain npm into a fresh project outside the repo, with a PATH that holds only node, npm, npx,
 * sh and which. There `perfprofile events` must find task-clock usable from the prebuilt binary
 * for the running Node, and `perfprofile record` must sample with it.
 *
 * `npm test` runs it on Node 20 (the tarball carries every supported Node at hand);
 * scripts/compat.mjs on Node 22 and 24 with PERFPROFILE_PREBUILD=20,22,24 (the full tarball).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode } from '@perfprofile/core';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['native', 'packages/core', 'packages/cli'];
const ABI = process.versions.modules;
const ABIS: Record<string, string> = { 20: '115', 22: '127', 24: '137' };
const TARGET = 'linux-x64-glibc';
/** native/README.md "Package size": the @perfprofile/native tarball, packed and unpacked. */
const BUDGET = { packed: 2 * 1024 * 1024, unpacked: 4 * 1024 * 1024 };
/** Hidden from the install: what node-gyp would need to compile the addon. */
const TOOLCHAIN = ['cc', 'c++', 'gcc', 'g++', 'make', 'python3'];

/** Packs each package (the env selects the prebuilt Nodes) into `dir`; name → tarball. */
function pack(dir: string): Record<string, string> {
  const tarballs: Record<string, string> = {};
  for (const p of PACKAGES) {
    const r = spawnSync(process.execPath, [path.join(REPO, 'scripts/pnpm.mjs'), 'pack', '--pack-destination', dir], {
      cwd: path.join(REPO, p),
      encoding: 'utf8',
      env: { ...process.env, npm_config_loglevel: 'error' },
    });
    if (r.status !== 0) throw new Error(`pnpm pack in ${p} failed:\n${r.stdout}\n${r.stderr}`);
    const name = JSON.parse(readFileSync(path.join(REPO, p, 'package.json'), 'utf8')).name as string;
    const prefix = name.replace('@', '').replace('/', '-');
    const file = readdirSync(dir).find((f) => f.startsWith(prefix + '-') && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack left no tarball for ${name} in ${dir}`);
    tarballs[name] = path.join(dir, file);
  }
  return tarballs;
}

/** Every file under `dir` (relative, '/'-separated) with its size. */
function files(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(path.join(dir, f));
    if (s.isFile()) out.set(f.split(path.sep).join('/'), s.size);
  }
  return out;
}

/** A bin directory with this Node (a copy: install.js puts its directory on PATH) and npm's basics only. */
function bareBin(dir: string): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  copyFileSync(process.execPath, path.join(bin, 'node'));
  chmodSync(path.join(bin, 'node'), 0o755);
  for (const tool of ['npm', 'npx', 'sh', 'which']) {
    const found = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    symlinkSync(realpathSync(found), path.join(bin, tool));
  }
  return bin;
}

/**
 * The user's environment: PATH is `bin` alone; no compiler settings, nothing of this repo's;
 * only what reaching the registry needs (home, proxy, CA trust) is kept.
 */
function bareEnv(bin: string): NodeJS.ProcessEnv {
  // warn: npm reports an optional dependency it skipped (it would still exit 0).
  const env: NodeJS.ProcessEnv = {
    PATH: bin,
    NO_COLOR: '1',
    npm_config_loglevel: 'warn',
    npm_config_update_notifier: 'false',
  };
  for (const [k, v] of Object.entries(process.env)) {
    if (
      /^(HOME|TMPDIR|LANG|LC_ALL|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|npm_config_(registry|cache|userconfig))$/.test(
        k,
      )
    )
      env[k] = v;
  }
  return env;
}

// Spins for CPU time, not wall time, so a busy machine does not thin the samples.
const SPIN = `function spin(ms) {
  let x = 0;
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const end = cpu() + ms;
  while (cpu() < end) for (let i = 0; i < 1e4; i++) x = (x * 31 + i) | 0;
  return x;
}
console.log(spin(700));
`;

describe('installed from pnpm pack tarballs with npm and no compiler on PATH', () => {
  let tmp: string;
  let project: string;
  let native: string;
  let tarballs: Record<string, string>;
  let env: NodeJS.ProcessEnv;
  let bin: string;
  let install: ReturnType<typeof spawnSync>;

  const npx = (args: string[]) =>
    spawnSync(path.join(bin, 'npx'), args, { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
  const status = () =>
    JSON.parse(
      execFileSync(
        path.join(bin, 'node'),
        [
          '-p',
          "const s = require('@perfprofile/native').status(); JSON.stringify({ ok: s.ok, source: s.source, file: s.file, reason: s.reason })",
        ],
        { cwd: project, env, encoding: 'utf8' },
      ),
    );

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'perfprofile-prebuilt-'));
    tarballs = pack(tmp);
    bin = bareBin(tmp);
    env = bareEnv(bin);
    project = path.join(tmp, 'user-project');
    mkdirSync(project);
    const file = (name: string) => `file:${tarballs[name]}`;
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify(
        {
          name: 'user-project',
          private: true,
          dependencies: { '@perfprofile/cli': file('@perfprofile/cli') },
          overrides: {
            '@perfprofile/core': file('@perfprofile/core'),
            '@perfprofile/native': file('@perfprofile/native'),
          },
        },
        null,
        2,
      ),
    );
    writeFileSync(path.join(project, 'spin.mjs'), SPIN);
    install = spawnSync(path.join(bin, 'npm'), ['install', '--no-audit', '--no-fund'], {
      cwd: project,
      env,
      encoding: 'utf8',
      timeout: 400_000,
    });
    native = path.join(project, 'node_modules', '@perfprofile', 'native');
  }, 900_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('packs a binary per Node ABI asked for, within the size budget', () => {
    const asked = process.env.PERFPROFILE_PREBUILD;
    const unpacked = path.join(tmp, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarballs['@perfprofile/native'], '-C', unpacked]);
    const entries = files(path.join(unpacked, 'package'));
    const prebuilt = [...entries.keys()].filter((f) => f.startsWith('prebuilds/')).sort();
    if (asked)
      expect(prebuilt).toEqual(
        asked
          .split(',')
          .map((m) => `prebuilds/${TARGET}/node-abi${ABIS[m.trim()]}.node`)
          .sort(),
      );
    else expect(prebuilt).toContain(`prebuilds/${TARGET}/node-abi${ABI}.node`);
    // Nothing of a local build or the dev scripts: sources, the install script, the binaries.
    for (const f of entries.keys())
      expect(f).toMatch(
        /^(package\.json|README\.md|index\.js|index\.d\.ts|binding\.gyp|scripts\/(install|build-key)\.js|src\/[\w./-]+\.(cc|h)|prebuilds\/linux-x64-glibc\/node-abi\d+\.node)$/,
      );
    // The dev workspace keeps no prebuilds/ (postpack): its installs compile from source.
    expect(existsSync(path.join(REPO, 'native', 'prebuilds'))).toBe(false);
    const packed = statSync(tarballs['@perfprofile/native']).size;
    const total = [...entries.values()].reduce((a, b) => a + b, 0);
    console.log(
      `@perfprofile/native tarball: ${prebuilt.length} prebuilt, ${(packed / 1024).toFixed(0)} KB packed, ${(total / 1024).toFixed(0)} KB unpacked`,
    );
    expect(packed).toBeLessThanOrEqual(BUDGET.packed);
    expect(total).toBeLessThanOrEqual(BUDGET.unpacked);
  });

  it('runs in an environment where no compiler can be found', () => {
    const missing = spawnSync('which', TOOLCHAIN, { env, encoding: 'utf8' });
    expect(missing.status, missing.stdout).not.toBe(0);
    expect(missing.stdout).toBe('');
    // The probe itself works there: it finds what the PATH does hold.
    const present = spawnSync('which', ['node', 'npm', 'sh'], { env, encoding: 'utf8' });
    expect(present.status).toBe(0);
    expect(present.stdout.trim().split('\n')).toEqual(['node', 'npm', 'sh'].map((t) => path.join(bin, t)));
  });

  it('installs, loading the prebuilt binary for this Node without compiling', () => {
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(existsSync(native), `npm skipped the optional @perfprofile/native:\n${install.stderr}`).toBe(true);
    expect(status()).toEqual({
      ok: true,
      source: 'prebuilt',
      file: path.join(realpathSync(native), 'prebuilds', TARGET, `node-abi${ABI}.node`),
    });
    expect(existsSync(path.join(native, 'build'))).toBe(false); // install.js did not even stage a build
  });

  it('perfprofile events shows task-clock usable', () => {
    const r = npx(['perfprofile', 'events']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^task-clock\s+software\s+yes\s/m);
    expect(r.stdout).toMatch(/^timer\s+timer\s+yes\s/m);
  });

  it('perfprofile record samples the user script with the prebuilt binary', () => {
    const r = npx([
      'perfprofile',
      'record',
      '-o',
      'cpu.pb.gz',
      '--config',
      'event=task-clock rate=1000',
      '--',
      'spin.mjs',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const samples = Number(/perfprofile: (\d+) samples \(perf_event, task-clock\), 0 lost/.exec(r.stderr)?.[1]);
    expect(samples, r.stderr).toBeGreaterThan(300);
    const profile = decode(readFileSync(path.join(project, 'cpu.pb.gz')));
    expect(profile.functions.map((f) => f.name)).toContain('spin');
  });

  it('prefers a local source build to the prebuilt binary', () => {
    const built = path.join(native, 'build', `node-abi${ABI}`, 'build', 'Release', 'perfprofile_native.node');
    mkdirSync(path.dirname(built), { recursive: true });
    cpSync(path.join(native, 'prebuilds', TARGET, `node-abi${ABI}.node`), built);
    try {
      expect(status()).toMatchObject({ ok: true, source: 'build', file: realpathSync(built) });
    } finally {
      rmSync(path.join(native, 'build'), { recursive: true });
    }
  });

  it('without a fitting prebuilt binary and no compiler: the install still succeeds, auto falls back to v8 naming both', () => {
    rmSync(path.join(native, 'prebuilds', TARGET, `node-abi${ABI}.node`));
    const rebuild = spawnSync(path.join(bin, 'npm'), ['rebuild', '@perfprofile/native'], {
      cwd: project,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(rebuild.status, rebuild.stderr).toBe(0);
    const s = status();
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(
      new RegExp(
        `^@perfprofile/native: not built from source for Node ${process.version}: build failed: .+; no prebuilt binary for ${TARGET}, ABI ${ABI} \\(Node ${process.version}; the package `,
      ),
    );
    const events = npx(['perfprofile', 'events']);
    expect(events.stdout).toMatch(
      /^task-clock\s+software\s+no\s+@perfprofile\/native: .*build failed.*no prebuilt binary/m,
    );
    const r = npx(['perfprofile', 'record', '-o', 'auto.pb.gz', '--', 'spin.mjs']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: event=auto uses v8 .*build failed.*no prebuilt binary for linux-x64-glibc/);
  });
});
