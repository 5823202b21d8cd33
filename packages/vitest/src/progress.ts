/**
 * The live progress line on a terminal: each benchmark in its profiled pass and its samples so far.
 *
 * Main process. Workers cannot report during a benchmark (a synchronous loop holds their event
 * loop), so this reads what they leave in `<out>/.records/`: a marker per started benchmark and
 * the sample count the native engine's helper thread rewrites every 250 ms. Same files in the
 * forks and threads pools. The line is transient (live.ts); plain logs get no progress at all
 * (the README's "Progress" says why).
 */
import pc from 'picocolors';
import { readRunning } from './output.js';
import type { LiveSurface } from './live.js';

/** How often the main process looks at the records directory (4 Hz). */
export const POLL_MS = 250;

/**
 * The live line: each benchmark in its profiled pass and its samples so far; undefined when
 * none is (warm-up and measured passes are Vitest's to show).
 */
export function liveLine(out: string): string | undefined {
  const parts = readRunning(out)
    .filter((b) => b.phase === 'profiled')
    .map((b) => `${b.fullName}: ${b.samples === undefined ? '…' : `${b.samples} samples so far`}`);
  return parts.length ? `perfprofile: profiling ${parts.join(', ')}` : undefined;
}

/** `text` cut to fit one row of `columns` (a wrapped line would leave its first row behind). */
export function fitRow(text: string, columns: number): string {
  return text.length <= columns - 1 ? text : `${text.slice(0, Math.max(0, columns - 2))}…`;
}

export class LiveProgress {
  private ticker: NodeJS.Timeout | undefined;

  /** `out`: the output directory the workers write to; `columns`: the terminal's width now. */
  constructor(
    private readonly out: string,
    private readonly surface: LiveSurface,
    private readonly columns: () => number,
  ) {}

  /** Polls every {@link POLL_MS} until {@link stop}; does not keep the process alive. */
  start(): void {
    this.ticker ??= setInterval(() => this.poll(), POLL_MS).unref();
  }

  /** Removes the line for good. */
  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.surface.close();
  }

  /** Shows the line as the records directory is now. */
  poll(): void {
    const line = liveLine(this.out);
    this.surface.show(line === undefined ? undefined : pc.dim(fitRow(line, this.columns())));
  }
}
