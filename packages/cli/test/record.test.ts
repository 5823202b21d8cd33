import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decode, events, lookupEvent, type EventAvailability } from '@perfprofile/core';
import { pprofTop } from './go-pprof.js';
import { needs } from '../../../scripts/tools.mjs';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const fixture = fileURLToPath(new URL('../../../fixtures/workloads/split-70-30.mjs', import.meta.url));
const tmp = () => mkdtempSync(path.join(tmpdir(), 'perfprofile-record-'));

function perfprofile(args: string[], cwd = process.cwd()) {
  return spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PERFPROFILE_FIXTURE_MS: '1500' },
  });
}

describe('perfprofile record', () => {
  it('writes a pprof that go tool pprof reads, with the 70/30 split within 3 pp of the truth', needs('go'), () => {
    const dir = tmp();
    const out = path.join(dir, 'cpu.pb.gz');
    const r = perfprofile(['record', '-o', out, '--config', 'event=v8 rate=1000', '--', fixture]);
    expect(r.status, r.stderr).toBe(0);
    const truth = JSON.parse(r.stdout.trim().split('\n').pop()!).truth as { hot: number; cold: number };
    expect(r.stderr).toMatch(/perfprofile: \d+ samples \(v8, v8\), 0 lost/);
    const shares = pprofTop(out);
    const hot = shares.get('hot')!;
    const cold = shares.get('cold')!;
    expect(hot).toBeGreaterThan(0);
    expect(Math.abs((100 * hot) / (hot + cold) - 100 * truth.hot)).toBeLessThan(3);
    expect(Math.abs((100 * cold) / (hot + cold) - 100 * truth.cold)).toBeLessThan(3);
  });

  it('passes the script exit code through and still writes the profile', () => {
    const dir = tmp();
    const script = path.join(dir, 'fail.mjs');
    writeFileSync(script, 'let x = 0; for (let i = 0; i < 1e7; i++) x += i; process.exitCode = 7;\n');
    const r = perfprofile(['record', '-q', '--config', 'event=v8', '--', script], dir);
    expect(r.status).toBe(7);
    expect(decode(readFileSync(path.join(dir, 'cpu.pb.gz'))).sampleTypes[0].type).toBe('samples');
    const thrown = path.join(dir, 'throw.mjs');
    writeFileSync(thrown, 'throw new Error("boom");\n');
    const t = perfprofile(['record', '-q', '-o', 'thrown.pb.gz', '--', thrown], dir);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/boom/);
    expect(existsSync(path.join(dir, 'thrown.pb.gz'))).toBe(true);
  });

  it.each([
    ['event=cylces', /unknown event "cylces" \(did you mean "cycles"\?/],
    ['rate=0', /rate=0 must be greater than zero/],
    ['<event=v8', /does not end with ">"/],
    ['evnt=v8', /unknown config key "evnt" \(did you mean "event"\?/],
  ])('exits 2 on config %j before the script starts', (config, message) => {
    const dir = tmp();
    const marker = path.join(dir, 'ran');
    const script = path.join(dir, 'marker.mjs');
    writeFileSync(
      script,
      `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'yes');\n`,
    );
    const r = perfprofile(['record', '--config', config, '--', script], dir);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(dir, 'cpu.pb.gz'))).toBe(false);
  });

  it('exits 2 on usage mistakes', () => {
    expect(perfprofile(['record']).status).toBe(2);
    expect(perfprofile(['record', '--bogus', '--', fixture]).stderr).toMatch(/unknown option --bogus/);
    expect(perfprofile(['nope']).status).toBe(2);
  });
});

describe('perfprofile events', () => {
  it('lists every event with availability and a reason when unavailable', () => {
    const r = perfprofile(['events', '--json']);
    expect(r.status).toBe(0);
    const list = JSON.parse(r.stdout) as EventAvailability[];
    // Every event of the catalog, judged as core judges it in this process.
    expect(list).toEqual(events());
    expect(list.find((e) => e.name === 'v8')).toMatchObject({ available: true });
    expect(list.map((e) => e.name)).toEqual(
      expect.arrayContaining(['cycles', 'task-clock', 'page-faults', 'timer', 'auto']),
    );
    // The table: a usable event with its default rate, any other with the reason.
    const table = perfprofile(['events'])
      .stdout.trim()
      .split('\n')
      .slice(1)
      .map((line) => {
        const [name, kind, usable, ...note] = line.split(/\s+/);
        return { name, kind, usable, note: note.join(' ') };
      });
    expect(table.map((row) => row.name)).toEqual(list.map((e) => e.name));
    for (const [i, e] of list.entries()) {
      if (e.available) {
        expect(e.reason).toBeUndefined();
        expect(table[i]).toMatchObject({ kind: e.kind, usable: 'yes' });
        if (e.kind !== 'auto') expect(table[i].note).toContain(String(lookupEvent(e.name)!.defaultRate));
      } else {
        expect(e.reason).toBeTruthy();
        expect(table[i]).toEqual({ name: e.name, kind: e.kind, usable: 'no', note: e.reason });
      }
    }
  });
});
