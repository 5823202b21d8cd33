import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CPUProfile, functionTable, isProfileError, writeAtomic, type Profile } from '../src/index.js';
// @ts-expect-error plain JS fixture
import { run as split } from '../../../fixtures/workloads/split-70-30.mjs';

/** hot's share of hot+cold flat time in the profile. */
export function hotShare(profile: Profile): number {
  const rows = functionTable(profile).rows;
  const flat = (name: string) => rows.find((r) => r.name === name)?.flat ?? 0;
  return flat('hot') / (flat('hot') + flat('cold'));
}

describe('CPUProfile with the v8 source', () => {
  it('recovers the 70/30 split within 3 pp on the main thread', () => {
    const p = new CPUProfile('event=v8 rate=1000');
    // V8's sampler thread ticks on the wall clock and a loaded machine delays it (799 samples in
    // 1.5 s seen in CI; 700 at load 7): profile again, longer each time, until there are enough.
    let attempt: { truth: { hot: number }; profile: Profile; stats: { samples: number } };
    for (let i = 0; ; i++) {
      const run = p.start();
      expect(run.source).toBe('v8');
      const truth = split(1500 * (i + 1));
      attempt = { truth, ...p.stop()! };
      if (attempt.stats.samples > 800 || i === 2) break;
    }
    const { truth, profile, stats } = attempt;
    expect(stats.samples).toBeGreaterThan(800);
    expect(stats).toMatchObject({ source: 'v8', event: 'v8', rate: 1000, period: 1_000_000, lost: 0 });
    expect(Math.abs(hotShare(profile) - truth.hot) * 100).toBeLessThan(3);
    // Lines are hot's own or its first (V8 files inlined functions' lines under the caller;
    // sources/v8-lines.ts keeps a line only when no other function could own it).
    const hot = profile.functions.find((f) => f.name === 'hot')!;
    const lines = profile.locations.filter((l) => l.lines[0].functionId === hot.id).map((l) => l.lines[0].line);
    const end = readFileSync(new URL('../../../fixtures/workloads/split-70-30.mjs', import.meta.url), 'utf8')
      .split('\n')
      .findIndex((l, i) => i >= hot.startLine && l.startsWith('}'));
    expect(Math.min(...lines)).toBeGreaterThanOrEqual(hot.startLine);
    expect(Math.max(...lines)).toBeLessThanOrEqual(end + 1);
    expect(hot.filename).toMatch(/fixtures\/workloads\/split-70-30\.mjs$/);
    expect(profile.comments.join('\n')).toMatch(/perfprofile config \{event=v8 rate=1000\}/);
    expect(profile.sampleTypes.map((t) => t.type)).toEqual(['samples', 'wall']);
  });

  it('enforces one profile per thread, is restartable, and stop() is a no-op when stopped', () => {
    const a = new CPUProfile('event=v8');
    const b = new CPUProfile('event=v8');
    expect(a.stop()).toBeUndefined();
    a.start();
    expect(() => a.start()).toThrow(/already running/);
    expect(() => b.start()).toThrow(/another CPU profile is running on this thread/);
    expect(() => a.setRate(10)).toThrow(/cannot reconfigure a running profile/);
    expect(a.stop()).toBeDefined();
    expect(a.stop()).toBeUndefined();
    b.start();
    expect(b.stop()!.stats.source).toBe('v8');
    a.setRate(500).start();
    expect(a.stop()!.stats.rate).toBe(500);
  });

  it('configures like Go: setEvent, setPeriod, setSampleKernel', () => {
    const p = new CPUProfile();
    p.setEvent('v8').setPeriod(2_000_000);
    expect(p.configuration.rate).toBe(500);
    expect(() => p.setPeriod(0)).toThrow(/greater than zero/);
    expect(() => p.setEvent('cylces')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_EVENT', hint: expect.stringMatching(/did you mean "cycles"/) }),
    );
    p.setSampleKernel(true);
    const e = (() => {
      try {
        p.start();
      } catch (err) {
        return err;
      }
    })();
    expect(isProfileError(e) && e.message).toMatch(/kernel=true needs a perf event/);
    expect(p.isRunning).toBe(false);
  });

  it('names (garbage collector) and (program) frames', () => {
    const p = new CPUProfile('event=v8 rate=5000');
    p.start();
    const keep: unknown[] = [];
    const end = performance.now() + 400;
    while (performance.now() < end) {
      keep.push(new Array(1000).fill({ a: 1 }));
      if (keep.length > 2000) keep.length = 0;
    }
    const { profile } = p.stop()!;
    const names = profile.functions.map((f) => f.name);
    expect(names).toContain('(garbage collector)');
  });

  it('profiles inside a worker_threads Worker', async () => {
    const coreUrl = new URL('../dist/index.js', import.meta.url).href;
    const fixtureUrl = new URL('../../../fixtures/workloads/split-70-30.mjs', import.meta.url).href;
    const code = `
      import { parentPort } from 'node:worker_threads';
      import { CPUProfile, encode } from ${JSON.stringify(coreUrl)};
      import { run } from ${JSON.stringify(fixtureUrl)};
      const p = new CPUProfile('event=v8 rate=1000');
      // As on the main thread: longer profiles until V8's wall-clock sampler got 800 samples.
      for (let i = 0; ; i++) {
        p.start();
        const truth = run(1500 * (i + 1));
        const { profile, stats } = p.stop();
        if (stats.samples > 800 || i === 2) {
          parentPort.postMessage({ truth, bytes: encode(profile), samples: stats.samples });
          break;
        }
      }
    `;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { type: 'module' } as never);
    const msg = await new Promise<{ truth: { hot: number }; bytes: Uint8Array; samples: number }>((resolve, reject) => {
      worker.once('message', resolve).once('error', reject);
    });
    await worker.terminate();
    const { decode } = await import('../src/index.js');
    const profile = decode(msg.bytes);
    expect(msg.samples).toBeGreaterThan(800);
    expect(Math.abs(hotShare(profile) - msg.truth.hot) * 100).toBeLessThan(3);
  });
});

describe('writeAtomic', () => {
  const dir = () => mkdtempSync(path.join(os.tmpdir(), 'perfprofile-atomic-'));

  it('writes the file whole and leaves no temp file', () => {
    const d = dir();
    writeAtomic(path.join(d, 'a.json'), '{"a":1}');
    expect(readdirSync(d)).toEqual(['a.json']);
    expect(readFileSync(path.join(d, 'a.json'), 'utf8')).toBe('{"a":1}');
  });

  it('removes its temp file when the write fails, and throws the error; the old file is untouched', () => {
    const d = dir();
    writeFileSync(path.join(d, 'keep.pb.gz'), 'old');
    // The rename cannot replace a non-empty directory: the temp file is written, then the rename fails.
    mkdirSync(path.join(d, 'busy'));
    writeFileSync(path.join(d, 'busy', 'inside'), 'x');
    expect(() => writeAtomic(path.join(d, 'busy'), 'new')).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^E(ISDIR|NOTEMPTY|EXIST)$/) }),
    );
    expect(readdirSync(d).sort()).toEqual(['busy', 'keep.pb.gz']);
    expect(readFileSync(path.join(d, 'keep.pb.gz'), 'utf8')).toBe('old');
  });
});
