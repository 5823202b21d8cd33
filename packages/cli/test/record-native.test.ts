/**
 * `perfprofile record` with the native engine: a task-clock profile that `go tool pprof` reads,
 * and the availability paths a user meets on a machine without a PMU (cycles → exit 2 naming
 * ENOENT, fallback and auto with their notice, kernel=true without privilege).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode, nativeStatus } from '@perfprofile/core';
import { goPprof, pprofTop } from './go-pprof.js';
import { needs } from '../../../scripts/tools.mjs';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const fixture = fileURLToPath(new URL('../../../fixtures/workloads/split-70-30.mjs', import.meta.url));

function tmp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-record-native-'));
  chmodSync(dir, 0o777); // the unprivileged-user case writes here too
  return dir;
}

function record(config: string, dir: string, options: { uid?: number; script?: string } = {}) {
  const out = path.join(dir, 'cpu.pb.gz');
  const r = spawnSync(
    process.execPath,
    [cli, 'record', '-o', out, '--config', config, '--', options.script ?? fixture],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PERFPROFILE_FIXTURE_MS: '1500' },
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
    },
  );
  return { ...r, out };
}

/** A script that leaves a marker when it runs: bad configs must exit before it starts. */
function markerScript(dir: string): { script: string; marker: string } {
  const marker = path.join(dir, 'ran');
  const script = path.join(dir, 'marker.mjs');
  writeFileSync(script, `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'yes');\n`);
  return { script, marker };
}

describe('perfprofile record with native events', () => {
  it('has the native engine built on this Linux x64 machine', () => {
    expect(nativeStatus()).toMatchObject({ ok: true });
  });

  // The 1 pp accuracy bound is the native suite's (core/test/native.test.ts); here the point is
  // that go tool pprof reads the file right. The fixture's truth is wall time around each
  // call, which a busy machine inflates where CPU time does not, hence 2 pp.
  it('writes a task-clock profile that go tool pprof reads, the 70/30 split within 2 pp', needs('go'), () => {
    const r = record('event=task-clock rate=1000', tmp());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/perfprofile: \d+ samples \(perf_event, task-clock\), 0 lost/);
    const truth = JSON.parse(r.stdout.trim().split('\n').pop()!).truth as { hot: number };
    const raw = goPprof(['-raw', r.out]);
    expect(raw).toMatch(/^PeriodType: cpu nanoseconds$/m);
    expect(raw).toMatch(/^samples\/count cpu\/nanoseconds\[dflt\]$/m);
    const shares = pprofTop(r.out);
    const hot = shares.get('hot')!,
      cold = shares.get('cold')!;
    expect(Math.abs((100 * hot) / (hot + cold) - 100 * truth.hot)).toBeLessThan(2);
  });

  it("starts node with V8's code log for native events only, and removes the log afterwards", () => {
    const dir = tmp();
    const script = path.join(dir, 'argv.mjs');
    writeFileSync(
      script,
      'console.log(JSON.stringify({ execArgv: process.execArgv, log: process.env.PERFPROFILE_V8_LOG ?? null }));\n',
    );
    const run = (config: string) => {
      const tmpdir = mkdtempSync(path.join(dir, 'tmp-'));
      const r = spawnSync(
        process.execPath,
        [cli, 'record', '-q', '-o', path.join(dir, 'x.pb.gz'), '--config', config, '--', script],
        { encoding: 'utf8', env: { ...process.env, TMPDIR: tmpdir } },
      );
      expect(r.status, r.stderr).toBe(0);
      return {
        ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as { execArgv: string[]; log: string | null }),
        left: readdirSync(tmpdir),
      };
    };
    const native = run('event=task-clock');
    expect(native.execArgv).toEqual(
      expect.arrayContaining(['--log', '--logfile-per-isolate', `--logfile=${native.log}`]),
    );
    expect(native.left).toEqual([]);
    // V8's CpuProfiler silences the code log while it runs: no flags for event=v8.
    const v8 = run('event=v8');
    expect(v8.execArgv.filter((a) => a.startsWith('--log'))).toEqual([]);
    expect(v8.log).toBeNull();
  });

  it('refuses event=cycles on a machine without a PMU: exit 2, one line naming ENOENT, script not run', () => {
    const dir = tmp();
    const { script, marker } = markerScript(dir);
    const r = record('event=cycles', dir, { script });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/event cycles is unavailable: no hardware PMU \(ENOENT\).*fallback=task-clock/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(r.out)).toBe(false);
  });

  it('falls back from cycles to task-clock, and auto picks task-clock, each saying why', () => {
    const fallback = record('event=cycles fallback=task-clock rate=1000', tmp());
    expect(fallback.status, fallback.stderr).toBe(0);
    expect(fallback.stderr).toMatch(/warning: .*cycles.*no hardware PMU \(ENOENT\).*task-clock/);
    expect(decode(readFileSync(fallback.out)).comments.join('\n')).toMatch(
      /^source perf_event: fallback=task-clock: cycles unavailable \(no hardware PMU \(ENOENT\)\)$/m,
    );

    const auto = record('event=auto', tmp());
    expect(auto.status, auto.stderr).toBe(0);
    const comments = decode(readFileSync(auto.out)).comments.join('\n');
    expect(comments).toMatch(
      /^source perf_event: event=auto chose task-clock \(cycles: no hardware PMU \(ENOENT\)\)$/m,
    );
  });

  it('refuses kernel=true for an unprivileged user with the paranoid remedy', () => {
    const paranoid = Number(readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8'));
    expect(paranoid).toBeGreaterThanOrEqual(2); // what this machine is documented to have
    // Root may count kernel events; user nobody (65534) may not at paranoid >= 2.
    const dir = tmp();
    const { script, marker } = markerScript(dir);
    const r = record('event=task-clock kernel=true', dir, { uid: 65534, script });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /perf_event_paranoid=\d: needs CAP_PERFMON or `sysctl kernel\.perf_event_paranoid=1` \((EACCES|EPERM)\)/,
    );
    expect(existsSync(marker)).toBe(false);
    // The same user without kernel=true is fine.
    expect(record('event=task-clock rate=500', tmp(), { uid: 65534 }).status).toBe(0);
  });
});
