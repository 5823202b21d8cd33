/** Text output of `top` and `diff`: values in their unit, percentages, aligned tables. */
import type { FunctionTable, ShareDiff } from '@perfprofile/core';

/** A value in its unit: nanoseconds as time, everything else as a number. */
function fmtValue(v: number, unit: string): string {
  if (unit === 'nanoseconds') {
    if (v >= 1e9) return `${(v / 1e9).toFixed(2)}s`;
    if (v >= 1e6) return `${(v / 1e6).toFixed(2)}ms`;
    if (v >= 1e3) return `${(v / 1e3).toFixed(2)}µs`;
    return `${v}ns`;
  }
  return v >= 1e6 ? v.toExponential(2) : String(Math.round(v * 100) / 100);
}

const fmtPct = (p: number) => `${p.toFixed(2)}%`;

/** Right-aligns the first `right` columns, left-aligns the rest. */
function table(rows: string[][], right: number): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i < right ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** `top`: a header line, then flat, flat%, cum, cum% per function, `n` rows. */
export function renderTable(t: FunctionTable, n: number): string[] {
  const unit = t.valueType.split('/')[1] ?? '';
  const rows = t.rows
    .slice(0, n)
    .map((r) => [
      fmtValue(r.flat, unit),
      fmtPct(r.flatPct),
      fmtValue(r.cum, unit),
      fmtPct(r.cumPct),
      r.name,
      r.file ? `${r.file}:${r.line}` : '',
    ]);
  return [
    `${t.valueType}: total ${fmtValue(t.total, unit)}, showing ${Math.min(n, t.rows.length)} of ${t.rows.length} functions`,
    ...table([['flat', 'flat%', 'cum', 'cum%', 'function', 'file:line'], ...rows], 4),
  ];
}

/** `diff`: a header line, then the self-share change, before, after and total change per function. */
export function renderDiff(d: ShareDiff, n: number): string[] {
  const pp = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} pp`;
  const rows = d.rows
    .slice(0, n)
    .map((r) => [pp(r.delta), `${r.before.toFixed(2)}%`, `${r.after.toFixed(2)}%`, pp(r.cumDelta), r.name, r.file]);
  return [
    `${d.valueType} self share, base ${d.baseSamples} samples → head ${d.headSamples} samples`,
    ...table([['change', 'before', 'after', 'total change', 'function', 'file'], ...rows], 4),
  ];
}
