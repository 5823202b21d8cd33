/**
 * `perfprofile flame` in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * The page must work offline from one file: the hot function is the widest frame at its depth,
 * clicking zooms, search highlights, tooltips and the tier colouring work. A screenshot is
 * saved under .artifacts/ for humans.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs, skips, toolPath } from '../../../scripts/tools.mjs';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = path.join(REPO, 'packages/cli/dist/main.js');
const ARTIFACTS = path.join(REPO, '.artifacts');

let browser: Browser;
let html: string;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'perfprofile-flame-'));
  const profile = path.join(dir, 'split.pb.gz');
  // A real native profile of the 70/30 fixture: hot and cold under run().
  const rec = spawnSync(process.execPath, [CLI, 'record', '-q', '-o', profile, '--config', 'event=task-clock,page-faults rate=2000', '--', path.join(REPO, 'fixtures/workloads/split-70-30.mjs')], { encoding: 'utf8', env: { ...process.env, PERFPROFILE_FIXTURE_MS: '1000' } });
  expect(rec.status, rec.stderr).toBe(0);
  html = path.join(dir, 'flame.html');
  const r = spawnSync(process.execPath, [CLI, 'flame', profile, '-o', html], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  if (!skips('chromium')) browser = await chromium.launch({ executablePath: toolPath('chromium'), args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('perfprofile flame', () => {
  it('is one small self-contained file', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    const scripts = [...text.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('');
    expect(scripts.length).toBeLessThan(1 << 20);
    expect(statSync(html).size).toBeLessThan(4 << 20);
  });

  it('draws hot widest at its depth, zooms on click, highlights search, shows tooltips and tiers', needs('chromium'), async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Offline: any request other than the file itself fails the test.
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : (errors.push(`network: ${route.request().url()}`), route.abort())));
    await page.goto(pathToFileURL(html).href);
    const frames = () => page.$$eval('.frame', (els) => els.map((e) => ({ name: (e as HTMLElement).dataset.name!, depth: Number((e as HTMLElement).dataset.depth), width: e.getBoundingClientRect().width, cls: e.className })));

    const all = await frames();
    const hot = all.find((f) => f.name === 'hot')!;
    expect(hot).toBeDefined();
    const sameDepth = all.filter((f) => f.depth === hot.depth && f.name !== 'hot');
    expect(sameDepth.map((f) => f.name)).toContain('cold');
    for (const f of sameDepth) expect(hot.width).toBeGreaterThan(f.width);
    const cold = sameDepth.find((f) => f.name === 'cold')!;
    expect(hot.width / (hot.width + cold.width)).toBeGreaterThan(0.6);

    // Sample types: samples, cpu, page-faults.
    const options = await page.$$eval('#type option', (os) => os.map((o) => o.textContent));
    expect(options).toEqual(['samples/count', 'cpu/nanoseconds', 'page-faults/count']);

    // Tooltip.
    await page.hover('.frame[data-name="hot"]');
    const tip = await page.textContent('#tip');
    expect(tip).toMatch(/^hot {2}.*split-70-30\.mjs:\d+\n[\d.]+ ms \(\d+\.\d\d%\) · \d+ samples\n/);

    // Search highlights exactly the matching frames.
    await page.fill('#search', '^cold$');
    const matched = (await frames()).filter((f) => f.cls.includes('match'));
    expect(matched.length).toBeGreaterThan(0);
    expect(new Set(matched.map((f) => f.name))).toEqual(new Set(['cold']));
    expect(await page.textContent('#status')).toMatch(/^matched \d+\.\d% of/);
    await page.fill('#search', '');

    // Click zooms: hot then spans the chart, cold is gone.
    const chartWidth = await page.$eval('#chart', (e) => e.clientWidth);
    await page.click('.frame[data-name="hot"]');
    const zoomed = await frames();
    expect(zoomed.find((f) => f.name === 'hot')!.width).toBeCloseTo(chartWidth, 0);
    expect(zoomed.some((f) => f.name === 'cold')).toBe(false);
    expect(zoomed.filter((f) => f.cls.includes('ancestor')).length).toBe(hot.depth);
    await page.click('#reset');
    expect((await frames()).some((f) => f.name === 'cold')).toBe(true);

    // Tier colouring: the hot frame's colour follows its tier, and a legend appears.
    const before = await page.$eval('.frame[data-name="hot"]', (e) => getComputedStyle(e).backgroundColor);
    await page.selectOption('#colour', 'tier');
    const after = await page.$eval('.frame[data-name="hot"]', (e) => getComputedStyle(e).backgroundColor);
    expect(after).not.toBe(before);
    expect(await page.textContent('#legend')).toContain('turbofan');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'flame.png'), fullPage: true });
    expect(statSync(path.join(ARTIFACTS, 'flame.png')).size).toBeGreaterThan(5000);
    expect(errors).toEqual([]);
    await page.close();
  });
});
