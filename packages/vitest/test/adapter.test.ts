/** The Vitest-major seam without a Vitest run: detection, v5 naming, provider setup and wrapping. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { adapterFor, compareVersions } from '../src/adapter.js';
import type { VitestAdapter } from '../src/adapter-interface.js';
import { registrationFullName, registrationPath } from '../src/names-v5.js';
import { wrapProvider, type Group, type Provider } from '../src/provider-v5.js';

function adapter(version: string, node?: string): VitestAdapter {
  const a = adapterFor(version, node);
  if (a instanceof Error) throw a;
  return a;
}

describe('adapterFor', () => {
  it('detects the major once per version', () => {
    expect(adapter('4.1.12').major).toBe(4);
    expect(adapter('5.1.1', '24.21.0').major).toBe(5);
    expect(adapterFor('4.1.12')).toBe(adapterFor('4.1.12'));
  });

  it('refuses Vitest 5 below Node 22.12, as Vitest 5 itself requires (Node 20 × Vitest 5)', () => {
    const e = adapterFor('5.1.1', '20.20.2');
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe(
      'Vitest 5.1.1 needs Node >= 22.12.0 (this is Node 20.20.2); use Vitest 4.1 on this Node',
    );
    expect(adapterFor('5.0.0', '22.11.0')).toBeInstanceOf(Error);
    expect(adapter('5.0.0', '22.12.0').major).toBe(5);
  });

  it('names what it supports for other versions', () => {
    for (const v of ['3.2.4', '4.0.18', '6.0.0'])
      expect((adapterFor(v) as Error).message).toBe(`vitest-perfprofile supports Vitest 4.1 and 5 (found ${v})`);
  });

  it('compares dotted versions numerically', () => {
    expect(compareVersions('22.12.0', '22.9.9')).toBeGreaterThan(0);
    expect(compareVersions('v20.20.2', '22.12.0')).toBeLessThan(0);
    expect(compareVersions('24.0.0', '24')).toBe(0);
  });
});

describe('Vitest 5 benchmark names', () => {
  it('are the test path plus the registration, without repeating a registration named as its test', () => {
    expect(registrationFullName('hash > fnv1a', 'sync')).toBe('hash > fnv1a > sync');
    expect(registrationFullName('sorting > bubble 400', 'bubble 400')).toBe('sorting > bubble 400');
    expect(registrationPath('top', 'x')).toEqual(['top', 'x']);
  });
});

describe('Vitest 5 adapter', () => {
  const v5 = adapter('5.1.1', '24.21.0');

  function project(provider?: string) {
    const provide = vi.fn();
    return { config: { benchmark: { enabled: true, provider } }, provide, name: 'bench' };
  }

  it('profiles benchmark projects only', () => {
    expect(v5.benchmarking({} as never, project() as never)).toBe(true);
    expect(v5.benchmarking({} as never, { config: { benchmark: { enabled: false } } } as never)).toBe(false);
  });

  it('sets its own provider when the project has none, and provides the settings', () => {
    const p = project();
    v5.install(p as never, 'key', { out: '/tmp/x' });
    // provider-v5.js beside adapter-v5.js (dist/ when built).
    expect(p.config.benchmark.provider).toBe(fileURLToPath(new URL('../src/provider-v5.js', import.meta.url)));
    expect(p.provide).toHaveBeenCalledWith('key', { out: '/tmp/x' });
  });

  it("wraps the project's own provider: a generated module imports it and hands it to ours", () => {
    const p = project('/work/project/provider/mine.ts');
    v5.install(p as never, 'key', { out: '/tmp/x' });
    const wrapper = p.config.benchmark.provider!;
    expect(wrapper).toMatch(/provider-[0-9a-f]{8}\.mjs$/);
    const source = readFileSync(wrapper, 'utf8');
    expect(source).toContain('import inner from "/work/project/provider/mine.ts";');
    expect(source).toMatch(/import \{ wrapProvider \} from ".*provider-v5\.js";/);
    expect(source).toContain('export default wrapProvider(inner);');
    // configureVitest runs per project and per plugin instance: installing again keeps it.
    v5.install(p as never, 'key', { out: '/tmp/x' });
    expect(p.config.benchmark.provider).toBe(wrapper);
  });

  it("runs `vitest bench` as Vitest 5's CLI does: benchmark projects only, no coverage", () => {
    const options: Record<string, unknown> = { coverage: { reporter: ['text'] } };
    expect(v5.benchCommand(options)).toBe('test');
    expect(options).toEqual({ benchmarkOnly: true, coverage: { reporter: ['text'], enabled: false } });
    expect(adapter('4.1.12').benchCommand({})).toBe('benchmark');
  });
});

describe('wrapProvider outside a perfprofile run', () => {
  it('is the wrapped provider unchanged', async () => {
    const result = [{ name: 'a', throughput: { mean: 1 } }];
    const inner: Provider = { run: vi.fn(async () => result) };
    const group = {
      test: { fullTestName: 't', file: { filepath: '/x.bench.ts' } },
      registrations: [{ name: 'a', fn: () => 1 }],
    } as Group;
    await expect(wrapProvider(inner).run(group)).resolves.toBe(result);
    expect(inner.run).toHaveBeenCalledWith(group);
  });

  it('refuses a provider without run()', () => {
    expect(() => wrapProvider({} as Provider)).toThrow(
      "vitest-perfprofile: the project's benchmark.provider has no run() to wrap",
    );
  });
});
