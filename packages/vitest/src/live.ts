/**
 * Where the live progress line is drawn on a terminal: one transient line, never left among Vitest's.
 *
 * Vitest's own terminal reporter keeps a summary window at the bottom of the screen and captures
 * stdout while it runs (everything written is re-printed above the window), so there the line
 * is a row of that window. Without such a window (CI set, or another reporter) the line is kept
 * below everything else written to the terminal: erased before any other write, drawn again at
 * the next update if that write ended its line.
 */

/** A place for one line that is replaced at each update. */
export interface LiveSurface {
  /** Shows `line` (one terminal row, already fitted) in place of the previous one; undefined removes it. */
  show(line: string | undefined): void;
  /** Removes the line and stops watching the terminal. */
  close(): void;
}

/** Vitest's window renderer, as far as this reads it (DefaultReporter → SummaryReporter → WindowRenderer, or a reporter's own). */
interface WindowRendererLike {
  options: { getWindow: () => string[] };
  schedule(): void;
}

function windowRendererOf(reporter: unknown): WindowRendererLike | undefined {
  const r = reporter as
    { summary?: { renderer?: Partial<WindowRendererLike> }; renderer?: Partial<WindowRendererLike> } | undefined;
  const renderer = r?.summary?.renderer ?? r?.renderer;
  if (!renderer || typeof renderer.schedule !== 'function' || typeof renderer.options?.getWindow !== 'function')
    return undefined;
  return renderer as WindowRendererLike;
}

/**
 * The live line as the last row of Vitest's summary window, when one of `reporters` draws it
 * (Vitest's internals: looked up, not assumed; undefined when absent).
 */
export function windowSurface(reporters: readonly unknown[]): LiveSurface | undefined {
  const renderer = reporters.map(windowRendererOf).find((r) => r !== undefined);
  if (!renderer) return undefined;
  const inner = renderer.options.getWindow;
  let current: string | undefined;
  // An empty last row leaves the cursor at column 0, so when Vitest clears the window (erase to
  // end of line, row by row upwards, from the cursor's column) every row is erased whole, ours
  // included; after a longer last row, the starts of shorter rows would survive the clear.
  renderer.options.getWindow = () => (current === undefined ? inner() : [...inner(), current, '']);
  const show = (line: string | undefined) => {
    if (line === current) return;
    current = line;
    renderer.schedule();
  };
  return { show, close: () => show(undefined) };
}

const ERASE_LINE = '\r\x1b[K';

type Write = NodeJS.WriteStream['write'];

/**
 * The live line on `stream`, kept below whatever else is written to it or to `sameScreen`
 * (stderr on the same terminal): their writes are intercepted until {@link LiveSurface.close}.
 * The line is erased before each such write and drawn again by the next {@link LiveSurface.show},
 * only where a line starts: it is never left between two lines of someone else's, nor glued to
 * a line still being written, and a run's last output does not bring back a line gone stale.
 */
export function inPlaceSurface(
  stream: NodeJS.WriteStream,
  sameScreen: readonly NodeJS.WriteStream[] = [],
): LiveSurface {
  const draw = stream.write.bind(stream) as (text: string) => boolean;
  let wanted: string | undefined;
  let drawn = false;
  // Where the others' last write left the cursor: the line is drawn only at a line's start.
  let atLineStart = true;
  const erase = () => {
    if (!drawn) return;
    draw(ERASE_LINE);
    drawn = false;
  };
  const redraw = () => {
    if (wanted === undefined || drawn || !atLineStart) return;
    draw(wanted);
    drawn = true;
  };
  const restores = [stream, ...sameScreen].map((target) => {
    const original = target.write;
    target.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      erase();
      const written = (original as (...args: unknown[]) => boolean).call(target, chunk, ...rest);
      const text =
        typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
      if (text !== '') atLineStart = text.endsWith('\n');
      return written;
    } as Write;
    return () => {
      target.write = original;
    };
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    wanted = undefined;
    erase();
    for (const restore of restores) restore();
    process.off('exit', close);
  };
  // A process that exits in the middle (Vitest's own process.exit) must not leave the line behind.
  process.once('exit', close);
  return {
    show(line) {
      if (closed) return;
      if (line !== wanted) {
        erase();
        wanted = line;
      }
      redraw();
    },
    close,
  };
}
