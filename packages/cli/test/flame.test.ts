/**
 * `perfprofile flame` in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * The page must work offline from one file. On a native recording: the hot function is the
 * widest frame at its depth, clicking zooms, search highlights, tooltips and tier colours work.
 * On a real `vitest-perf bench` run: one root per benchmark, named and sized by its samples. On
 * a hand-built profile: exact tooltip and search numbers, and names that try to inject markup.
 * A screenshot is saved under .artifacts/ for humans.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, ProfileBuilder, type Frame } from '@perfprofile/core';
import { needs, skips, toolPath } from '../../../scripts/tools.mjs';

// Chromium: launched once for the whole file, here and nowhere else.
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
const VITEST_PERF = path.join(REPO, 'packages/vitest/dist/cli.js');
const ARTIFACTS = path.join(REPO, '.artifacts');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'perfprofile-flame-'));

/** The environment without the outer Vitest's variables, so a child run is a run of its own. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^VITEST|^TINYPOOL|^NODE_ENV$|^TEST$/.test(k)) out[k] = v;
  return { ...out, NO_COLOR: '1', CI: '1', ...extra };
}

function flame(profile: string, html = path.join(tmp(), 'flame.html')): string {
  const r = spawnSync(process.execPath, [CLI, 'flame', profile, '-o', html], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return html;
}

interface Drawn {
  name: string;
  depth: number;
  left: number;
  width: number;
  cls: string;
  kind: string;
  text: string;
}

/** A page on `html` that fails the test on any script error or any request but the file. */
async function open(html: string): Promise<{ page: Page; errors: string[]; frames: () => Promise<Drawn[]> }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
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
      els.map((e) => {
        const el = e as HTMLElement,
          r = el.getBoundingClientRect();
        return {
          name: el.dataset.name!,
          depth: Number(el.dataset.depth),
          left: r.left,
          width: r.width,
          cls: el.className,
          kind: el.dataset.kind ?? '',
          text: el.textContent!,
        };
      }),
    );
  return { page, errors, frames };
}

/** The tooltip after hovering `selector`: name, file, table rows (cells) and notes. */
async function tooltip(page: Page, selector: string) {
  await page.hover(selector);
  return page.$eval('#tip', (tip) => ({
    hidden: (tip as HTMLElement).hidden,
    name: tip.querySelector('.name')?.textContent,
    file: tip.querySelector('.file')?.textContent,
    rows: Array.from(tip.querySelectorAll('tr'), (tr) => Array.from(tr.children, (c) => c.textContent)),
    notes: Array.from(tip.querySelectorAll('.note'), (n) => n.textContent),
  }));
}

describe('on a native recording (70/30 fixture)', () => {
  let html: string;
  beforeAll(() => {
    const profile = path.join(tmp(), 'split.pb.gz');
    const rec = spawnSync(
      process.execPath,
      [
        CLI,
        'record',
        '-q',
        '-o',
        profile,
        '--config',
        'event=task-clock,page-faults rate=2000',
        '--',
        path.join(REPO, 'fixtures/workloads/split-70-30.mjs'),
      ],
      { encoding: 'utf8', env: { ...process.env, PERFPROFILE_FIXTURE_MS: '1000' } },
    );
    expect(rec.status, rec.stderr).toBe(0);
    html = flame(profile);
  }, 60_000);

  it('is one small self-contained file', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
    const scripts = [...text.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('');
    expect(scripts.length).toBeLessThan(1 << 20);
    expect(statSync(html).size).toBeLessThan(4 << 20);
  });

  it(
    'draws hot widest at its depth, zooms on click, highlights search, shows tooltips and tiers',
    needs('chromium'),
    async () => {
      const { page, errors, frames } = await open(html);
      const all = await frames();
      // No benchmark label in a plain recording: no benchmark level.
      expect(all.filter((f) => f.kind === 'benchmark')).toEqual([]);
      // The widest hot: a stray sample can put a sliver of hot under another caller.
      const hots = all.filter((f) => f.name === 'hot');
      expect(hots.length).toBeGreaterThan(0);
      const hot = hots.reduce((a, b) => (b.width > a.width ? b : a));
      const HOT = `.frame[data-name="hot"] >> nth=${hots.indexOf(hot)}`;
      const sameDepth = all.filter((f) => f.depth === hot.depth && f.name !== 'hot');
      expect(sameDepth.map((f) => f.name)).toContain('cold');
      for (const f of sameDepth) expect(hot.width).toBeGreaterThan(f.width);
      const cold = sameDepth.find((f) => f.name === 'cold')!;
      expect(hot.width / (hot.width + cold.width)).toBeGreaterThan(0.6);

      // Sample types: samples, cpu, page-faults.
      const options = await page.$$eval('#type option', (os) => os.map((o) => o.textContent));
      expect(options).toEqual(['samples/count', 'cpu/nanoseconds', 'page-faults/count']);

      // Tooltip: ms for cpu nanoseconds, share and samples; hot's own code is most of its total.
      const tip = await tooltip(page, HOT);
      expect(tip.name).toBe('hot');
      expect(tip.file).toMatch(/split-70-30\.mjs:\d+$/);
      expect(tip.rows[0]).toEqual(['', 'cpu', 'of all', 'samples']);
      expect(tip.rows[1]).toEqual([
        'total',
        expect.stringMatching(/^\d+\.\d\d ms$/),
        expect.stringMatching(/^\d+\.\d\d%$/),
        expect.stringMatching(/^[\d,]+$/),
      ]);
      expect(tip.rows[2]).toEqual([
        'self',
        expect.stringMatching(/^\d+\.\d\d ms$/),
        expect.stringMatching(/^\d+\.\d\d%$/),
        expect.stringMatching(/^[\d,]+$/),
      ]);
      const [total, self] = [tip.rows[1], tip.rows[2]].map((r) =>
        r.slice(1).map((c) => parseFloat(c!.replace(/,/g, ''))),
      );
      for (let i = 0; i < 3; i++) expect(self[i]).toBeLessThanOrEqual(total[i]);
      expect(self[2]).toBeGreaterThan(total[2] * 0.8);
      expect(tip.notes.join('\n')).toMatch(/^tier: \w+ \d+%/m);

      // Search highlights exactly the matching frames.
      await page.fill('#search', '^cold$');
      const matched = (await frames()).filter((f) => f.cls.includes('match'));
      expect(matched.length).toBeGreaterThan(0);
      expect(new Set(matched.map((f) => f.name))).toEqual(new Set(['cold']));
      expect(await page.textContent('#status')).toMatch(/^matched [\d,]+ of [\d,]+ samples \(\d+\.\d\d%\)/);
      await page.fill('#search', '');

      // Click zooms: hot then spans the chart, cold is gone.
      const chartWidth = await page.$eval('#chart', (e) => e.clientWidth);
      await page.click(HOT);
      const zoomed = await frames();
      expect(zoomed.find((f) => f.name === 'hot')!.width).toBeCloseTo(chartWidth, 0);
      expect(zoomed.some((f) => f.name === 'cold')).toBe(false);
      expect(zoomed.filter((f) => f.cls.includes('ancestor')).length).toBe(hot.depth);
      await page.click('#reset');
      expect((await frames()).some((f) => f.name === 'cold')).toBe(true);
      await page.click(HOT);
      expect((await frames()).some((f) => f.name === 'cold')).toBe(false);
      await page.keyboard.press('Escape');
      expect((await frames()).some((f) => f.name === 'cold')).toBe(true);

      // Tier colouring: the hot frame's colour follows its tier, and a legend appears.
      const colour = () => page.locator(HOT).evaluate((e) => getComputedStyle(e).backgroundColor);
      const before = await colour();
      await page.selectOption('#colour', 'tier');
      const after = await colour();
      expect(after).not.toBe(before);
      expect(await page.textContent('#legend')).toContain('turbofan');
      expect(errors).toEqual([]);
      await page.close();
    },
  );
});

describe('on a real vitest-perf run (fixtures/vitest4)', () => {
  let out: string;
  let benchmarks: { fullName: string; profile: string; samples: number }[];
  beforeAll(() => {
    out = path.join(tmp(), 'perf.out');
    const r = spawnSync(process.execPath, [VITEST_PERF, 'bench', '--run', '--perfprofile', out], {
      cwd: path.join(REPO, 'fixtures/vitest4'),
      encoding: 'utf8',
      env: env(),
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    benchmarks = JSON.parse(readFileSync(path.join(out, 'index.json'), 'utf8')).benchmarks;
    expect(benchmarks.length).toBeGreaterThanOrEqual(3);
  }, 150_000);

  it(
    'merged.pb.gz: one root per benchmark, named by its label, holding its own samples and functions',
    needs('chromium'),
    async () => {
      const { page, errors, frames } = await open(flame(path.join(out, 'merged.pb.gz')));
      const all = await frames();
      const chartWidth = await page.$eval('#chart', (e) => e.clientWidth);
      const roots = all.filter((f) => f.kind === 'benchmark');
      expect(roots.map((f) => f.name).sort()).toEqual(benchmarks.map((b) => b.fullName).sort());
      for (const r of roots) {
        expect(r.depth).toBe(1);
        expect(r.cls).toContain('bench');
        expect(r.text).toBe(r.name);
      }
      // Every sample is labeled: the roots side by side fill the chart under (all).
      expect(all.find((f) => f.depth === 0)!.name).toBe('(all)');
      expect(all.filter((f) => f.depth === 1).length).toBe(roots.length);
      expect(roots.reduce((a, r) => a + r.width, 0)).toBeCloseTo(chartWidth, 0);

      // Each root's tooltip counts exactly the samples index.json gives its benchmark.
      for (const b of benchmarks) {
        const tip = await tooltip(page, `.frame.bench[data-name="${b.fullName}"]`);
        expect(tip.name).toBe(b.fullName);
        expect(tip.file).toBe('benchmark');
        expect(tip.rows[1][0]).toBe('total');
        expect(tip.rows[1][3]!.replace(/,/g, '')).toBe(String(b.samples));
      }
      // The hot functions sit under their own benchmark's root.
      const rootOf = (f: Drawn) => roots.find((r) => f.left >= r.left - 0.5 && f.left < r.left + r.width)!.name;
      const named = (name: string) => all.filter((f) => f.name === name);
      // A function is drawn once per distinct path to it, so maybe more than once under its root
      // (insertionSort was twice under `insertion 400` in one CI run).
      for (const [fn, root] of [
        ['bubbleSort', /bubble/],
        ['insertionSort', /insertion/],
        ['hashRounds', /^hash > /],
      ] as const) {
        expect(named(fn).length, fn).toBeGreaterThan(0);
        for (const f of named(fn)) expect(rootOf(f), fn).toMatch(root);
      }

      // A benchmark's name finds its whole root (and, inside it, the callback named after it).
      const bubble = benchmarks.find((b) => /bubble/.test(b.fullName))!;
      await page.fill('#search', 'bubble 400');
      const matched = (await frames()).filter((f) => f.cls.includes('match'));
      expect(matched.map((f) => f.name)).toContain(bubble.fullName);
      for (const f of matched) {
        expect([bubble.fullName, 'bench: bubble 400']).toContain(f.name);
        expect(rootOf(f)).toBe(bubble.fullName);
      }
      const total = benchmarks.reduce((a, b) => a + b.samples, 0);
      expect((await page.textContent('#status'))!.replace(/,/g, '')).toMatch(
        new RegExp(`^matched ${bubble.samples} of ${total} samples`),
      );
      await page.fill('#search', '');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'flame.png'), fullPage: true });
      expect(statSync(path.join(ARTIFACTS, 'flame.png')).size).toBeGreaterThan(5000);
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  it('a single benchmark’s profile has one root, its name', needs('chromium'), async () => {
    const b = benchmarks[0];
    const { page, errors, frames } = await open(flame(path.join(out, b.profile)));
    const all = await frames();
    expect(all.filter((f) => f.depth === 1).map((f) => [f.name, f.kind])).toEqual([[b.fullName, 'benchmark']]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('on a hand-built profile', () => {
  const EVIL_BENCH = 'suite > <img src=x onerror="window.__pwned=1">';
  const EVIL_FN = '<img src=x onerror="window.__pwned=2"> &amp; </script>';
  const EVIL_FILE = '</script><script>window.__pwned=3</script>.ts';
  let html: string;
  beforeAll(() => {
    // 'suite > fast': main self ×5, main;hot ×30, main;cold ×10. EVIL_BENCH: main;EVIL_FN ×15.
    // No label: (garbage collector) ×20. 80 samples of 1 ms each.
    const b = new ProfileBuilder({
      sampleTypes: [
        { type: 'samples', unit: 'count' },
        { type: 'cpu', unit: 'nanoseconds' },
      ],
      defaultSampleType: 'cpu',
      periodType: { type: 'cpu', unit: 'nanoseconds' },
      period: 1e6,
    });
    const fn = (name: string, line: number, file = 'src/app.ts'): Frame => ({ name, file, line, startLine: line });
    const add = (stack: Frame[], n: number, bench?: string) =>
      b.addFrames([...stack].reverse(), [n, n * 1e6], bench === undefined ? [] : [{ key: 'benchmark', str: bench }]);
    add([fn('main', 10)], 5, 'suite > fast');
    add([fn('main', 10), fn('hot', 20)], 30, 'suite > fast');
    add([fn('main', 10), fn('cold', 30)], 10, 'suite > fast');
    add([fn('main', 10), fn(EVIL_FN, 1, EVIL_FILE)], 15, EVIL_BENCH);
    add([fn('(garbage collector)', 0, '')], 20);
    const dir = tmp();
    const profile = path.join(dir, '<i>odd&amp;.pb.gz');
    writeFileSync(profile, encode(b.build()));
    html = flame(profile, path.join(dir, 'flame.html'));
  });

  it(
    'gives exact self and total in the tooltip, in ms, shares and samples, with the benchmark share',
    needs('chromium'),
    async () => {
      const { page, errors } = await open(html);
      expect(await page.textContent('#status')).toBe('80.00 ms cpu total · 80 samples · 2 benchmarks');
      const main = await tooltip(
        page,
        '.frame.bench[data-name="suite > fast"] ~ .frame[data-name="main"][data-depth="2"]',
      );
      expect(main).toMatchObject({ hidden: false, name: 'main', file: 'src/app.ts:10' });
      expect(main.rows).toEqual([
        ['', 'cpu', 'of all', 'samples'],
        ['total', '45.00 ms', '56.25%', '45'],
        ['self', '5.00 ms', '6.25%', '5'],
      ]);
      expect(main.notes).toEqual(['of suite > fast: 100.00% total, 11.11% self']);
      const hot = await tooltip(page, '.frame[data-name="hot"]');
      expect(hot.rows.slice(1)).toEqual([
        ['total', '30.00 ms', '37.50%', '30'],
        ['self', '30.00 ms', '37.50%', '30'],
      ]);
      expect(hot.notes).toEqual(['of suite > fast: 66.67% total, 66.67% self']);
      // The sample type switch changes the value column; samples need no second column.
      await page.selectOption('#type', { label: 'samples/count' });
      const counted = await tooltip(page, '.frame[data-name="cold"]');
      expect(counted.rows).toEqual([
        ['', 'samples', 'of all'],
        ['total', '10', '12.50%'],
        ['self', '10', '12.50%'],
      ]);
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  it('keeps unlabeled samples directly under the root, next to the benchmarks', needs('chromium'), async () => {
    const { page, frames } = await open(html);
    const depth1 = (await frames()).filter((f) => f.depth === 1).map((f) => [f.name, f.kind]);
    // Siblings sort by name: '<' before 'f'.
    expect(depth1).toEqual([
      ['(garbage collector)', ''],
      [EVIL_BENCH, 'benchmark'],
      ['suite > fast', 'benchmark'],
    ]);
    await page.close();
  });

  it(
    'search highlights matching names or files, counts each sample once, and clearing restores',
    needs('chromium'),
    async () => {
      const { page, frames } = await open(html);
      const status = () => page.textContent('#status');
      const highlighted = async () =>
        (await frames())
          .filter((f) => f.cls.includes('match'))
          .map((f) => f.name)
          .sort();
      expect(await highlighted()).toEqual([]);
      await page.fill('#search', '^(hot|cold)$');
      expect(await highlighted()).toEqual(['cold', 'hot']);
      expect(await status()).toBe('matched 40 of 80 samples (50.00%) · 40.00 ms cpu · 2 frames');
      // hot lies under main: its samples are not counted twice.
      await page.fill('#search', 'main|hot');
      expect(await highlighted()).toEqual(['hot', 'main', 'main']);
      expect(await status()).toMatch(/^matched 60 of 80 samples \(75\.00%\)/);
      // File and line, lower case ignoring case.
      await page.fill('#search', 'APP.TS:20');
      expect(await highlighted()).toEqual([]);
      await page.fill('#search', 'app.ts:20');
      expect(await highlighted()).toEqual(['hot']);
      // Not a regex: plain text.
      await page.fill('#search', '(garbage');
      expect(await highlighted()).toEqual(['(garbage collector)']);
      expect(await status()).toMatch(/^matched 20 of 80 samples \(25\.00%\).*plain text/);
      await page.fill('#search', '');
      expect(await highlighted()).toEqual([]);
      expect(await status()).toBe('80.00 ms cpu total · 80 samples · 2 benchmarks');
      expect(await page.$eval('#chart', (e) => e.classList.contains('searching'))).toBe(false);
      await page.close();
    },
  );

  it('shows names that look like markup as text and runs none of it', needs('chromium'), async () => {
    const text = readFileSync(html, 'utf8');
    expect(text.match(/<script/g)).toHaveLength(2);
    const { page, errors, frames } = await open(html);
    const all = await frames();
    expect(all.find((f) => f.kind === 'benchmark' && f.name === EVIL_BENCH)!.text).toBe(EVIL_BENCH);
    expect(all.find((f) => f.name === EVIL_FN)!.text).toBe(EVIL_FN);
    expect(await page.title()).toBe('<i>odd&amp;.pb.gz — perfprofile flame');
    expect(await page.textContent('#title')).toBe('<i>odd&amp;.pb.gz');
    const tip = await tooltip(page, `.frame[data-name="${EVIL_FN.replace(/"/g, '\\"')}"]`);
    expect([tip.name, tip.file]).toEqual([EVIL_FN, `${EVIL_FILE}:1`]);
    expect(tip.notes[0]).toBe(`of ${EVIL_BENCH}: 100.00% total, 100.00% self`);
    await page.fill('#search', 'img');
    expect((await frames()).filter((f) => f.cls.includes('match')).map((f) => f.name)).toEqual([EVIL_BENCH, EVIL_FN]);
    expect(
      await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: number }).__pwned,
        img: document.querySelectorAll('img, i').length,
        scripts: document.scripts.length,
      })),
    ).toEqual({ pwned: undefined, img: 0, scripts: 2 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
