// Off Linux (macOS, Windows), simulated: the native engine is out, event=auto becomes v8 with a
// notice, every native event fails with "Linux only", and installing @perfprofile/native skips
// the build without failing the install.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { events, resolveRun } from '../src/availability.js';
import { resolveCounters } from '../src/counters.js';
import { parseConfig, type ProfileConfig } from '../src/config.js';
import { CPUProfile } from '../src/cpuprofile.js';
import { isProfileError, type ProfileError } from '../src/errors.js';
import { EVENTS } from '../src/events.js';
import { nativeStatus, simulatePlatform } from '../src/sources/native.js';

const NATIVE = fileURLToPath(new URL('../../../native/', import.meta.url));

function config(text: string): ProfileConfig {
  const c = parseConfig(text);
  if (isProfileError(c)) throw c;
  return c;
}

function spin(ms: number): number {
  let x = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

describe.each(['darwin', 'win32'] as const)('off Linux (%s, simulated)', (platform) => {
  afterEach(() => simulatePlatform(undefined));

  it('has no native engine; every hardware, software, raw and timer event is "Linux only"', () => {
    simulatePlatform(platform);
    expect(nativeStatus()).toEqual({ ok: false, reason: 'Linux only' });
    const all = events();
    const native = all.filter((e) => e.kind !== 'v8' && e.kind !== 'auto');
    expect(native.length).toBe(EVENTS.filter((e) => e.kind !== 'v8' && e.kind !== 'auto').length);
    expect(native.map((e) => e.kind)).toEqual(expect.arrayContaining(['hardware', 'software', 'timer']));
    for (const e of native) expect(e, e.name).toMatchObject({ available: false, reason: 'Linux only' });
    expect(all.find((e) => e.name === 'v8')).toMatchObject({ available: true });
  });

  it('event=auto becomes v8 with a notice, and still profiles', () => {
    simulatePlatform(platform);
    const run = resolveRun(config('event=auto'));
    if (isProfileError(run)) throw run;
    expect(run.source).toBe('v8');
    expect(run.events.map((e) => e.name)).toEqual(['v8']);
    expect(run.reason).toBe('event=auto chose v8 (cycles: Linux only; task-clock: Linux only)');
    expect(run.warnings).toContain("event=auto uses v8 (V8's sampler, wall clock): no native event here (Linux only)");
    const profile = new CPUProfile('event=auto rate=2000');
    profile.start();
    spin(300);
    const result = profile.stop()!;
    expect(result.stats.source).toBe('v8');
    expect(result.stats.warnings.some((w) => w.startsWith('event=auto uses v8'))).toBe(true);
    expect(result.stats.samples).toBeGreaterThan(50);
  });

  it('hardware and software events fail with "Linux only" (fallback=v8 rescues them)', () => {
    simulatePlatform(platform);
    for (const name of ['cycles', 'instructions', 'task-clock', 'page-faults', 'timer', 'r00c0']) {
      const run = resolveRun(config(`event=${name}`)) as ProfileError;
      expect(isProfileError(run), name).toBe(true);
      expect(run.code).toBe('ERR_EVENT_UNAVAILABLE');
      expect(run.message).toBe(`event ${name} is unavailable: Linux only`);
      expect(run.hint).toBe('use event=v8 off Linux');
    }
    expect(() => new CPUProfile('event=task-clock').start()).toThrow(/event task-clock is unavailable: Linux only/);
    const rescued = resolveRun(config('event=task-clock fallback=v8'));
    expect(isProfileError(rescued) ? rescued.message : rescued.source).toBe('v8');
  });

  it('leaves out per-op counters, saying why', () => {
    simulatePlatform(platform);
    expect(resolveCounters(config('event=v8'))).toEqual({
      events: [],
      warnings: ['per-op counters need the native engine: Linux only'],
    });
  });

  it('installs @perfprofile/native without building it, and without failing', () => {
    // A copy of the package, so the real build directory is left alone.
    const copy = path.join(mkdtempSync(path.join(tmpdir(), 'perfprofile-native-')), 'native');
    for (const f of ['package.json', 'index.js', 'binding.gyp', 'scripts', 'src'])
      cpSync(path.join(NATIVE, f), path.join(copy, f), { recursive: true });
    const env = { ...process.env, PERFPROFILE_SIMULATE_PLATFORM: platform };
    const install = spawnSync(process.execPath, ['scripts/install.js'], { cwd: copy, env, encoding: 'utf8' });
    expect(install.status).toBe(0);
    expect(install.stderr).toContain(
      `@perfprofile/native: not built (Linux only (this is ${platform})); event=v8 still works`,
    );
    const dir = path.join(copy, 'build', `node-abi${process.versions.modules}`);
    const status = JSON.parse(readFileSync(path.join(dir, 'status.json'), 'utf8'));
    expect(status).toMatchObject({ ok: false, reason: `Linux only (this is ${platform})`, node: process.version });
    expect(existsSync(path.join(dir, 'binding.gyp'))).toBe(false); // no build was staged
    expect(existsSync(path.join(dir, 'build'))).toBe(false);
    const load = spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./index.js").status())'], {
      cwd: copy,
      env,
      encoding: 'utf8',
    });
    expect(JSON.parse(load.stdout)).toEqual({ ok: false, reason: 'Linux only' });
  });
});
