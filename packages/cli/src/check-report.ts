/**
 * The gate's report (`perfprofile check`): the terminal text and the markdown for a
 * {@link CheckResult} — a table of every benchmark's time per op with its confidence, then per
 * regression the function that carries it and the top movers. What counts as a regression is
 * core's `checkRuns`.
 */
import {
  unconfirmedFindings,
  type BenchmarkCheck,
  type CheckResult,
  type Comparison,
  type Finding,
} from '@perfprofile/core';

/** Nanoseconds as the unit that keeps 3 significant digits: 812 ns, 2.41 µs, 2.41 ms, 1.20 s. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '–';
  const a = Math.abs(ns);
  const [d, u] = a >= 1e9 ? [1e9, 's'] : a >= 1e6 ? [1e6, 'ms'] : a >= 1e3 ? [1e3, 'µs'] : [1, 'ns'];
  const v = ns / d;
  return `${Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)} ${u}`;
}

/** A signed percentage from a fraction: +16.2%, −3.0%. */
export function formatChange(f: number | null): string {
  if (f === null || !Number.isFinite(f)) return '–';
  const p = f * 100;
  return `${p >= 0 ? '+' : '−'}${Math.abs(p) >= 1000 ? Math.abs(p).toFixed(0) : Math.abs(p).toFixed(1)}%`;
}

/** Text fit for a markdown table cell: pipes escaped, line breaks flattened. */
const cell = (x: string) => x.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (x: string) => `\`${cell(x).replace(/`/g, "'")}\``;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const interval = (c: Comparison) =>
  c.low === null || c.high === null ? '–' : `${formatChange(c.low)} … ${formatChange(c.high)}`;
const pValue = (p: number | null) => (p === null ? '–' : p < 0.001 ? '<0.001' : p.toFixed(3));
const sign = (ns: number) => `${ns >= 0 ? '+' : '−'}${formatNs(Math.abs(ns))}`;

/** A value of a counter or memory field: 3 significant digits. */
const amount = (x: number) =>
  Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(3)).toString();

/** "in `uniqBy` (src/uniq.ts): 2.30 ms → 2.69 ms per op (+17.0%)", or ''. */
function culpritText(b: BenchmarkCheck, md: boolean): string {
  if (!b.culprit) return '';
  const f = b.functions.find((x) => x.name === b.culprit!.name && x.file === b.culprit!.file);
  const name = md ? code(b.culprit.name) : b.culprit.name;
  const where = b.culprit.file ? ` (${md ? cell(b.culprit.file) : b.culprit.file})` : '';
  return f
    ? `${name}${where}: ${formatNs(f.base)} → ${formatNs(f.head)} per op (${f.base > 0 ? formatChange(f.change) : 'new'})`
    : `${name}${where}`;
}

/** ", called through a → b" when more functions than the culprit carry the increase. */
function chain(b: BenchmarkCheck, name: (s: string) => string): string {
  return b.carriers.length > 1
    ? `, called through ${b.carriers
        .slice(0, -1)
        .map((c) => name(c.name))
        .join(' → ')}`
    : '';
}

/** One line for a counter or memory finding. */
export function describeFinding(f: Finding): string {
  if (f.kind === 'time' || f.kind === 'function')
    return `${f.name}: ${formatNs(f.base)} → ${formatNs(f.head)} (${formatChange(f.change)})`;
  return `${f.name}: ${amount(f.base)} → ${amount(f.head)} (${formatChange(f.change)}, 90% confidence ${interval(f)}, z ${f.z.toFixed(1)})`;
}

/** What this comparison can and cannot detect, from its run counts and measured noise. */
export function limitsText(r: CheckResult): string {
  const l = r.limits,
    o = r.options;
  const runs =
    l.runs.base === l.runs.head
      ? `${plural(l.runs.base, 'run')} a side`
      : `${plural(l.runs.base, 'run')} of base, ${plural(l.runs.head, 'run')} of head`;
  const what = {
    profiled: 'CPU time per op of the profiled pass (task-clock/op)',
    'task-clock': 'CPU time per op of the measured pass (task-clock/op)',
    wall: 'wall time per op (no task-clock counter in every run)',
  }[l.source];
  const noise = `±${(l.noise * 100).toFixed(1)}% per run`;
  const bars = `≥ ${formatChange(o.minChange)} and ≥ ${l.minZ.toFixed(1)} standard errors of run-to-run noise (${noise} here)${l.rankTest ? `, and Mann–Whitney p ≤ ${o.alpha} over runs` : ''}`;
  const lines = [
    `${runs}; ${what} outside the harness. A benchmark regresses at ${bars}: the smallest increase this comparison can flag is about ${formatChange(l.detectable)}.`,
  ];
  if (!l.fails) {
    lines.push(
      `With one run a side nothing fails: each benchmark's own run-to-run noise is unseen, and unchanged code can run several times slower in one process than in another (V8's decisions: up to +461% on the proving ground), so a change past the bars is shown as unconfirmed. Profile each side in several fresh processes (\`vitest-perf bench --perfprofile <dir> --perfprofile-runs 5\`) to gate.`,
    );
  } else if (l.runs.base === 1 && l.runs.head === 1) {
    lines.push(
      `With one run a side, each benchmark's own run-to-run noise (JIT decisions, load) is unseen: the noise is the spread of all benchmarks' changes and the bar rises with their number, so only large regressions can fail. Profile each side in several fresh processes (\`vitest-perf bench --perfprofile <dir> --perfprofile-runs 5\`) to detect smaller ones.`,
    );
  } else if (!l.rankTest)
    lines.push(`Too few runs for Mann–Whitney's test (3 a side at p ≤ 0.05): the noise model alone decides.`);
  return lines.join(' ');
}

/** Regressed first, then by change, largest first. */
const order = (benchmarks: readonly BenchmarkCheck[]) =>
  [...benchmarks].sort(
    (x, y) => Number(y.regressions.length > 0) - Number(x.regressions.length > 0) || y.time.change - x.time.change,
  );

function moversMarkdown(b: BenchmarkCheck): string[] {
  const rows = b.movers.map(
    (m) =>
      `| ${code(m.name)}${m.file ? ` ${cell(m.file)}` : ''} | ${formatNs(m.selfBase)} → ${formatNs(m.selfHead)} | ${sign(m.selfHead - m.selfBase)} | ${formatNs(m.totalBase)} → ${formatNs(m.totalHead)} |`,
  );
  return ['| function | self per op | self change | total per op |', '|---|---:|---:|---:|', ...rows];
}

/** The markdown report `perfprofile check --markdown` and GITHUB_STEP_SUMMARY get; `flames` maps benchmark ids to flame-diff files. */
export function checkMarkdown(r: CheckResult, flames: ReadonlyMap<string, string> = new Map()): string {
  const failed = r.benchmarks.filter((b) => b.regressions.length);
  const lines = [
    failed.length
      ? `### perfprofile check: ${failed.length} of ${plural(r.benchmarks.length, 'benchmark')} regressed`
      : `### perfprofile check: no regressions in ${plural(r.benchmarks.length, 'benchmark')}`,
    '',
    limitsText(r),
    '',
  ];
  lines.push(
    '| | benchmark | base per op | head per op | change | 90% confidence | p | z | where |',
    '|---|---|---:|---:|---:|---|---:|---:|---|',
  );
  for (const b of order(r.benchmarks)) {
    const t = b.time;
    const mark = b.regressions.length ? '❌' : t.unconfirmed || unconfirmedFindings(b).length ? '❔' : '';
    lines.push(
      `| ${mark} | ${cell(b.fullName)} | ${formatNs(t.base)} | ${formatNs(t.head)} | ${formatChange(t.change)} | ${interval(t)} | ${pValue(t.p)} | ${t.z.toFixed(1)} | ${b.regressions.length ? culpritText(b, true) : ''} |`,
    );
  }
  for (const b of failed) {
    lines.push('', `#### ${cell(b.fullName)}`, '');
    for (const f of b.regressions) {
      if (f.kind === 'time')
        lines.push(
          `- time per op ${formatNs(f.base)} → ${formatNs(f.head)} (${formatChange(f.change)}, 90% confidence ${interval(f)})${b.culprit ? `; the increase is in ${culpritText(b, true)}${chain(b, code)}` : '; no single function carries it (see the movers)'}.`,
        );
      else
        lines.push(
          `- ${f.kind} ${code(f.name)}: ${amount(f.base)} → ${amount(f.head)} (${formatChange(f.change)}, 90% confidence ${interval(f)}).`,
        );
    }
    const flame = flames.get(b.id);
    if (flame) lines.push(`- differential flame graph: \`${cell(flame)}\``);
    lines.push(
      '',
      `Top movers (median time per op over the runs; self: in the function itself, total: with its callees):`,
      '',
      ...moversMarkdown(b),
    );
  }
  notes(r, lines, (w) => `> **Warning:** ${w}`);
  return lines.join('\n') + '\n';
}

/** Warnings and unmatched benchmarks, for both renderings. */
function notes(r: CheckResult, lines: string[], warning: (w: string) => string): void {
  if (r.warnings.length) lines.push('', ...r.warnings.map(warning));
  if (r.onlyBase.length) lines.push('', `Only in base (not compared): ${r.onlyBase.join(', ')}.`);
  if (r.onlyHead.length) lines.push('', `Only in head (not compared): ${r.onlyHead.join(', ')}.`);
}

/** The terminal text: a line per benchmark, and for a regression its function and movers. */
export function checkText(r: CheckResult, flames: ReadonlyMap<string, string> = new Map()): string {
  const failed = r.benchmarks.filter((b) => b.regressions.length);
  const out = [
    failed.length
      ? `perfprofile check: ${failed.length} of ${plural(r.benchmarks.length, 'benchmark')} regressed`
      : `perfprofile check: no regressions in ${plural(r.benchmarks.length, 'benchmark')}`,
    limitsText(r),
  ];
  for (const b of order(r.benchmarks)) {
    const t = b.time;
    const stats = `${formatNs(t.base)} → ${formatNs(t.head)} per op (${formatChange(t.change)}${t.low !== null ? `, 90% confidence ${interval(t)}` : ''}${t.p !== null ? `, p ${pValue(t.p)}` : ''}, z ${t.z.toFixed(1)})`;
    if (!b.regressions.length) {
      const others = unconfirmedFindings(b);
      out.push(
        `  ${t.unconfirmed || others.length ? '??  ' : 'ok  '} ${b.fullName}: ${stats}${t.unconfirmed ? ' (unconfirmed: one run a side)' : ''}`,
      );
      for (const f of others) out.push(`       ${f.kind} ${describeFinding(f)} (unconfirmed: one run a side)`);
      continue;
    }
    out.push(`  FAIL ${b.fullName}: ${stats}`);
    if (b.culprit) out.push(`       in ${culpritText(b, false)}${chain(b, (x) => x)}`);
    for (const f of b.regressions) if (f.kind !== 'time') out.push(`       ${f.kind} ${describeFinding(f)}`);
    const movers = b.movers.slice(0, 5).map((m) => `${m.name} ${sign(m.selfHead - m.selfBase)}`);
    if (movers.length) out.push(`       top movers (self time per op): ${movers.join(', ')}`);
    const flame = flames.get(b.id);
    if (flame) out.push(`       flame diff: ${flame}`);
  }
  notes(r, out, (w) => `warning: ${w}`);
  return out.join('\n');
}
