/**
 * `perfprofile check --flame-diff`: the differential flame graph of a regressed benchmark, in
 * headless Chromium. Hand-built runs with exact numbers: three runs a side, `leaf` 600 → 900 ns
 * per op of a benchmark 1000 → 1300 ns. The page must be one offline file, sized in ns per op
 * (head, or base by the switch), coloured by each frame's change, with base → head in the
 * tooltip and names shown as text. A screenshot is saved under .artifacts/ for humans.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, ProfileBuilder } from '@perfprofile/core';
import { needs, skips, toolPath } from '../../../scripts/tools.mjs';

let browser: Browser;
beforeAll(async () => {
  if (!skips('chromium'))
    browser = await chromium.launch({ executablePath: toolPath('chromium'), args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = path.join(REPO, 'packages/cli/dist/main.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'perfprofile-flamediff-'));
const EVIL = '<img src=x onerror="window.__pwned=1">';
const NAME = 'x > one';

/** One run: a benchmark of `ns` per op whose samples are these root-first stacks. */
function run(ns: number, stacks: Record<string, number>): string {
  const dir = tmp();
  const b = new ProfileBuilder({
    sampleTypes: [
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ],
    defaultSampleType: 'cpu',
    periodType: { type: 'cpu', unit: 'nanoseconds' },
    period: 1e6,
    mapping: { filename: 'test' },
  });
  for (const [stack, n] of Object.entries(stacks)) {
    const frames = stack
      .split(';')
      .map((name) => ({ name, file: `src/${name === EVIL ? 'evil' : name}.ts`, line: 2, startLine: 1 }));
    b.addFrames(frames.reverse(), [n, n * 1e6], [{ key: 'benchmark', str: NAME }]);
  }
  writeFileSync(path.join(dir, 'one.pb.gz'), encode(b.build()));
  const entry = {
    id: 'one',
    file: 'bench/x.bench.ts',
    name: 'one',
    fullName: NAME,
    profile: 'one.pb.gz',
    counters: { 'task-clock/op': ns },
    hz: { baseline: 1e9 / ns, profiled: 1e9 / ns },
    status: 'passed',
  };
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schema: 1, complete: true, benchmarks: [entry] }));
  return dir;
}

describe('check --flame-diff', () => {
  let html: string;
  beforeAll(() => {
    // Base: 100 samples of 10 ns (1000 ns per op): leaf 600, work 300, other and EVIL 50 each.
    // Head: 130 samples of 10 ns: leaf 900, the rest as before.
    const base = [990, 1000, 1010].map((ns) =>
      run(ns, { 'bench;work;leaf': 60, 'bench;work': 30, 'bench;other': 5, [`bench;${EVIL}`]: 5 }),
    );
    const head = [1287, 1300, 1313].map((ns) =>
      run(ns, { 'bench;work;leaf': 90, 'bench;work': 30, 'bench;other': 5, [`bench;${EVIL}`]: 5 }),
    );
    const out = path.join(tmp(), 'flames');
    const r = spawnSync(process.execPath, [CLI, 'check', ...base, '--', ...head, '--flame-diff', out], {
      encoding: 'utf8',
    });
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(readdirSync(out)).toEqual(['one.html']);
    html = path.join(out, 'one.html');
    expect(r.stdout).toContain(`flame diff: ${html}`);
  });

  it('is one self-contained file', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    expect(text.match(/<script/g)).toHaveLength(2);
  });

  it('sizes frames by ns per op, colours them by their change, and says base → head', needs('chromium'), async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route('**/*', (route) =>
      route.request().url().startsWith('file:')
        ? route.continue()
        : (errors.push(`network: ${route.request().url()}`), route.abort()),
    );
    await page.goto(pathToFileURL(html).href);
    const frames = () =>
      page.$$eval('.frame', (els) =>
        els.map((e) => ({
          name: (e as HTMLElement).dataset.name!,
          width: e.getBoundingClientRect().width,
          colour: getComputedStyle(e).backgroundColor,
          text: e.textContent!,
        })),
      );
    expect(await page.$eval('#colour', (s) => (s as HTMLSelectElement).value)).toBe('change');
    expect(await page.$$eval('#type option', (os) => os.map((o) => o.textContent))).toEqual(['base/ns', 'head/ns']);
    expect(await page.textContent('#status')).toBe('1.30 µs head total · 1 benchmark');
    expect(await page.textContent('#legend')).toBe(
      'slower per opunchangedfaster per opbase 1.00 µs → head 1.30 µs per op +30.0%; 3 base and 3 head runs',
    );
    const head = await frames();
    const w = (n: string, of = head) => of.find((f) => f.name === n)!.width;
    // Head widths: leaf 900 of 1300 ns per op.
    expect(w('leaf') / w('(all)')).toBeCloseTo(900 / 1300, 2);
    // leaf added 300 ns: red, deeper than other, which did not change.
    const rgb = (n: string) =>
      head
        .find((f) => f.name === n)!
        .colour.match(/\d+/g)!
        .map(Number);
    const [r, g, b] = rgb('leaf');
    expect(r).toBeGreaterThan(g + 60);
    expect(r).toBeGreaterThan(b + 60);
    const [r2, g2] = rgb('other');
    expect(r2 - g2).toBeLessThan(40);
    mkdirSync(path.join(REPO, '.artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(REPO, '.artifacts/flame-diff.png') });
    await page.hover('.frame[data-name="leaf"]');
    expect(await page.$eval('#tip .note.change', (n) => n.textContent)).toBe(
      'per op: 600 ns → 900 ns (+50.0%); self 600 ns → 900 ns',
    );
    // Base widths: leaf 600 of 1000.
    await page.selectOption('#type', '0');
    expect(w('leaf', await frames()) / w('(all)', await frames())).toBeCloseTo(0.6, 2);
    // A name that looks like markup is text, and runs nothing.
    expect(head.find((f) => f.name === EVIL)!.text).toBe(EVIL);
    await page.fill('#search', 'img');
    expect(
      await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: number }).__pwned,
        img: document.querySelectorAll('img').length,
      })),
    ).toEqual({ pwned: undefined, img: 0 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
