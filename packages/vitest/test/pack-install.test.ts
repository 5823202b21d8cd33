/**
 * How users get it: `pnpm pack` tarballs of @perfprofile/native, @perfprofile/core and
 * vitest-perfprofile, installed with plain npm into a fresh project outside the repo (the
 * native addon builds in npm's install step), then `npx vitest-perf bench` there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, pprofTop, readIndex, readProfile, REPO, topFunction } from './helpers.js';
import { crossCheck } from '../../../scripts/tools.mjs';

const PACKAGES = ['native', 'packages/core', 'packages/vitest'];

/** Packs each workspace package (workspace:* becomes its version) into `dir`; name → tarball. */
function pack(dir: string): Record<string, string> {
  const tarballs: Record<string, string> = {};
  for (const p of PACKAGES) {
    execFileSync(process.execPath, [path.join(REPO, 'scripts/pnpm.mjs'), 'pack', '--pack-destination', dir], {
      cwd: path.join(REPO, p),
      stdio: 'pipe',
      env: childEnv({ npm_config_loglevel: 'error' }),
    });
    const name = JSON.parse(readFileSync(path.join(REPO, p, 'package.json'), 'utf8')).name as string;
    const prefix = name.replace('@', '').replace('/', '-');
    const file = readdirSync(dir).find((f) => f.startsWith(prefix + '-') && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack left no tarball for ${name} in ${dir}`);
    tarballs[name] = path.join(dir, file);
  }
  return tarballs;
}

// The user's hot function, kept above V8's inlining limit (--max-inlined-bytecode-size): a callee
// TurboFan inlines into the benchmark callback has no frame of its own in a sampled stack
// (either source), and this test looks for its frame (sizes: docs/PERFORMANCE.md).
const SOURCE = `export function checksum(n: number): number {
  let a = 2166136261, b = 5381, c = 7, d = 11;
  for (let i = 0; i < n; i++) {
    a = Math.imul(a ^ (i & 0xff), 16777619) >>> 0; b = ((b << 5) + b + (a & 0xff)) | 0;
    c = (c + (b >>> 3)) | 0; d = (d * 17 + c) | 0; a = (a + (d >>> 5)) | 0; b = (b * 13 + a) | 0;
    c = (c ^ (b << 2)) | 0; d = (d + (c >>> 7)) | 0; a = (a ^ (d << 3)) | 0; b = (b + (a >>> 11)) | 0;
    c = (c * 5 + b) | 0; d = (d ^ (c << 1)) | 0; a = (a + (b ^ c)) | 0; b = (b + (c ^ d)) | 0;
    c = (c + (d ^ a)) | 0; d = (d + (a ^ b)) | 0; a = (a * 31 + (c >>> 9)) | 0; b = (b ^ (d << 4)) | 0;
    c = (c * 3 + (a >>> 1)) | 0; d = (d ^ (b >>> 6)) | 0; a = (a + (c << 2)) | 0; b = (b + (d * 7)) | 0;
    c = (c ^ (a + 11)) | 0; d = (d + (c >>> 2)) | 0; a = (a ^ (b + d)) | 0; b = (b * 9 + c) | 0;
    c = (c + (d >>> 3)) | 0; d = (d * 23 + (a << 1)) | 0; a = (a + (b >>> 13)) | 0; b = (b ^ (c * 5)) | 0;
    c = (c ^ (b >>> 4)) | 0; d = (d + (a ^ c)) | 0; a = (a * 7 + (d >>> 8)) | 0; b = (b + (c << 3)) | 0;
  }
  return a ^ b ^ c ^ d;
}
`;

const BENCH = `import { bench, describe } from 'vitest';
import { checksum } from '../src/checksum';

describe('user', () => {
  bench('checksum 20k', () => {
    checksum(20_000);
  }, { time: 300, warmupTime: 50 });
});
`;

describe('installed from pnpm pack tarballs with plain npm', () => {
  let project: string;
  let install: ReturnType<typeof spawnSync>;
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'perfprofile-install-'));
    const tarballs = pack(tmp);
    project = path.join(tmp, 'user-project');
    mkdirSync(path.join(project, 'src'), { recursive: true });
    mkdirSync(path.join(project, 'bench'));
    const file = (name: string) => `file:${tarballs[name]}`;
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify(
        {
          name: 'user-project',
          private: true,
          type: 'module',
          devDependencies: { vitest: '4.1.12', 'vitest-perfprofile': file('vitest-perfprofile') },
          // The tarballs name their siblings by version; point those at the tarballs too.
          overrides: {
            '@perfprofile/core': file('@perfprofile/core'),
            '@perfprofile/native': file('@perfprofile/native'),
          },
        },
        null,
        2,
      ),
    );
    writeFileSync(path.join(project, 'src/checksum.ts'), SOURCE);
    writeFileSync(path.join(project, 'bench/checksum.bench.ts'), BENCH);
    install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], {
      cwd: project,
      encoding: 'utf8',
      env: childEnv({ npm_config_loglevel: 'error' }),
      timeout: 400_000,
    });
  }, 420_000);

  // The project holds a full install (~50 MB); a failure's message carries npm's or Vitest's output.
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('installs, building the native addon', () => {
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    // Asked the way core asks it, from the user's project: the addon built and loads.
    const status = execFileSync(
      process.execPath,
      [
        '-e',
        "const s = require('@perfprofile/native').status(); console.log(JSON.stringify({ ok: s.ok, reason: s.reason }))",
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(JSON.parse(status)).toEqual({ ok: true });
  });

  it('runs npx vitest-perf bench there and profiles the user code', () => {
    const r = spawnSync('npx', ['vitest-perf', 'bench', '--run', '--perfprofile', 'perf.out'], {
      cwd: project,
      encoding: 'utf8',
      env: childEnv({ npm_config_loglevel: 'error' }),
      timeout: 180_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = path.join(project, 'perf.out');
    const index = readIndex(out);
    expect(index.complete).toBe(true);
    expect(index.config.source).toBe('perf_event');
    expect(index.benchmarks.map((b) => b.fullName)).toEqual(['user > checksum 20k']);
    const b = index.benchmarks[0];
    expect(b.top[0].function).toBe('checksum');
    expect(b.top[0].file).toBe('src/checksum.ts');
    const profile = readProfile(path.join(out, b.profile));
    const fn = profile.functions.find((f) => f.name === 'checksum')!;
    expect(fn.filename).toBe('src/checksum.ts');
    expect(fn.startLine).toBe(1);
    // The user's function holds the samples, not the benchmark callback it is called from
    // (where samples of code V8 did not report would land).
    expect(b.top[0].selfPct).toBeGreaterThan(80);
    expect(b.top.filter((t) => t.file === 'bench/checksum.bench.ts').reduce((a, t) => a + t.selfPct, 0)).toBeLessThan(
      10,
    );
    crossCheck('go', () => expect(topFunction(pprofTop(path.join(out, b.profile)))).toBe('checksum'));
    expect(r.stdout).toMatch(/user > checksum 20k\s+\d+/);
  });
});
