/**
 * The gate's report (`perfprofile check`): the terminal text and the markdown for a
 * {@link CheckResult}. The gate itself (what counts as a regression) is core's `checkRuns`.
 */
import { groupDigits, type BenchmarkCheck, type CheckResult, type Finding } from '@perfprofile/core';

const pct = (x: number) => `${x.toFixed(1)}%`;
/** Text fit for a markdown table cell: pipes escaped, line breaks flattened. */
const cell = (x: string) => x.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const num = (x: number) => (Math.abs(x) >= 1000 ? groupDigits(x) : Number(x.toPrecision(4)).toString());

const signed = (x: number, unit: string) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}${unit}`;

/** One line per finding: what grew, from what to what, and the limit it broke. */
export function describeFinding(f: Finding): string {
  if (f.kind === 'counter') return `${f.name}: ${num(f.before)} → ${num(f.after)} (+${f.increase.toFixed(1)}%, limit ${f.limit}%)`;
  const line = `${f.name}${f.file ? ` (${f.file})` : ''}: self share ${pct(f.before)} → ${pct(f.after)}, total ${pct(f.cumBefore ?? 0)} → ${pct(f.cumAfter ?? 0)} (+${f.increase.toFixed(1)} pp, limit ${f.limit} pp)`;
  return f.from?.length ? `${line}; ${describeSource(f)}` : line;
}

/** Where a share increase came from, when it left callers whose total share held. */
function describeSource(f: Finding, code = (s: string) => s): string {
  const who = f.from!.map((o) => `${code(o.name)} (self ${signed(o.selfDelta, ' pp')}, total ${signed(o.cumDelta, ' pp')})`).join(', ');
  return `taken from ${who}: a slower callee, or the JIT inlining it in one run only`;
}

/** Per-op counter changes of a benchmark as one line ("task-clock/op +3.1%, ..."), or ''. */
function describeCounterChanges(b: BenchmarkCheck): string {
  return Object.entries(b.counterChanges).map(([k, v]) => `${k} ${signed(v, '%')}`).join(', ');
}

/** One line for a self-share increase the total share does not show (not a regression). */
function describeMoved(f: Finding, markdown = false): string {
  return `${markdown ? `\`${cell(f.name)}\`` : f.name}${f.file ? ` (${f.file})` : ''}: self share ${pct(f.before)} → ${pct(f.after)} but total ${pct(f.cumBefore ?? 0)} → ${pct(f.cumAfter ?? 0)}: time moved in from its callees (e.g. one the JIT inlined in one run only), not counted`;
}

/** The markdown report `perfprofile check --markdown` and GITHUB_STEP_SUMMARY get. */
export function checkMarkdown(result: CheckResult): string {
  const o = result.options;
  const lines: string[] = [];
  if (result.regressions > 0) {
    lines.push(`### perfprofile check: ${result.regressions} regression${result.regressions === 1 ? '' : 's'}`, '');
    lines.push('| benchmark | what | before | after | change | limit |', '|---|---|---:|---:|---:|---:|');
    for (const b of result.benchmarks) {
      for (const f of b.regressions) {
        const what = f.kind === 'share' ? `\`${cell(f.name)}\` self / total share` : `\`${f.name}\``;
        const [before, after] = f.kind === 'share' ? [`${pct(f.before)} / ${pct(f.cumBefore ?? 0)}`, `${pct(f.after)} / ${pct(f.cumAfter ?? 0)}`] : [num(f.before), num(f.after)];
        const change = f.kind === 'share' ? `+${f.increase.toFixed(1)} pp` : `+${f.increase.toFixed(1)}%`;
        lines.push(`| ${cell(b.fullName)} | ${what} | ${before} | ${after} | ${change} | ${f.kind === 'share' ? `${f.limit} pp` : `${f.limit}%`} |`);
      }
    }
    const context = result.benchmarks.filter((b) => b.regressions.length).flatMap((b) => {
      const notes = b.regressions.filter((f) => f.from?.length).map((f) => `- ${cell(b.fullName)}: \`${f.name}\` ${describeSource(f, (s) => `\`${s}\``)}.`);
      const counters = describeCounterChanges(b);
      return counters ? [...notes, `- ${cell(b.fullName)}: per-op counters ${counters}.`] : notes;
    });
    if (context.length) lines.push('', ...context);
  } else {
    lines.push('### perfprofile check: no regressions', '');
    lines.push('| benchmark | largest share increase (self and total) |', '|---|---|');
    for (const b of result.benchmarks) {
      const f = b.largestShareIncrease;
      lines.push(`| ${cell(b.fullName)} | ${f ? `\`${cell(f.name)}\` +${f.increase.toFixed(1)} pp` : '–'} |`);
    }
  }
  const moved = result.benchmarks.flatMap((b) => b.moved.map((f) => `- ${b.fullName}: ${describeMoved(f, true)}`));
  if (moved.length) lines.push('', 'Not counted:', ...moved);
  if (result.warnings.length) lines.push('', ...result.warnings.map((w) => `> **Warning:** ${w}`));
  lines.push('', `Limits: a function's self and total share +${o.maxShareIncrease} pp (and ≥ ${o.minZ} standard errors), per-op counters +${o.maxCounterIncrease * 100}% (${o.counters.join(', ')}).`);
  if (result.onlyBase.length) lines.push(`Only in base: ${result.onlyBase.join(', ')}.`);
  if (result.onlyHead.length) lines.push(`Only in head: ${result.onlyHead.join(', ')}.`);
  return lines.join('\n') + '\n';
}

/** The terminal text of a check: one line per benchmark, or its findings when it failed. */
export function checkText(r: CheckResult): string {
  const out: string[] = [];
  if (r.regressions === 0) {
    out.push(`perfprofile check: no regressions in ${r.benchmarks.length} benchmark${r.benchmarks.length === 1 ? '' : 's'}`);
    for (const b of r.benchmarks) {
      const f = b.largestShareIncrease;
      out.push(`  ok  ${b.fullName}${f ? `  (largest share increase: ${f.name} +${f.increase.toFixed(1)} pp)` : ''}`);
    }
  } else {
    out.push(`perfprofile check: ${r.regressions} regression${r.regressions === 1 ? '' : 's'}`);
    for (const b of r.benchmarks) {
      if (b.regressions.length === 0) continue;
      out.push(`  FAIL ${b.fullName}`);
      for (const f of b.regressions) out.push(`       ${describeFinding(f)}`);
      const counters = describeCounterChanges(b);
      if (counters) out.push(`       per-op counters: ${counters}`);
    }
  }
  for (const b of r.benchmarks) for (const f of b.moved) out.push(`  note ${b.fullName}: ${describeMoved(f)}`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  if (r.onlyBase.length) out.push(`only in base (not compared): ${r.onlyBase.join(', ')}`);
  if (r.onlyHead.length) out.push(`only in head (not compared): ${r.onlyHead.join(', ')}`);
  return out.join('\n');
}
