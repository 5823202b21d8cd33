/**
 * Where a live progress line can be drawn on a terminal, updated in place. Vitest's own TTY
 * reporter keeps a summary window at the bottom of the screen and captures stdout while it
 * runs (everything written is re-printed above the window), so a line rewritten with `\r`
 * there would leave a copy behind at every update: in that case the line is added to the
 * window itself. Without such a window the line is rewritten on the stream.
 */

/** A place for one line that is replaced at each update. */
export interface LiveSurface {
  /** Shows `line` in place of the previous one; undefined removes it. */
  show(line: string | undefined): void;
  /** Called before another line is printed, so it does not land on the live line. */
  clear(): void;
}

/** Vitest 4's window renderer, as far as this reads it (DefaultReporter → SummaryReporter → WindowRenderer, or a reporter's own). */
interface WindowRendererLike {
  options: { getWindow: () => string[] };
  schedule(): void;
}

function windowRendererOf(reporter: unknown): WindowRendererLike | undefined {
  const r = reporter as { summary?: { renderer?: Partial<WindowRendererLike> }; renderer?: Partial<WindowRendererLike> } | undefined;
  const renderer = r?.summary?.renderer ?? r?.renderer;
  if (!renderer || typeof renderer.schedule !== 'function' || typeof renderer.options?.getWindow !== 'function') return undefined;
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
  return {
    show(line) {
      if (line === current) return;
      current = line;
      renderer.schedule();
    },
    clear() {
      // The window is redrawn below whatever is printed.
    },
  };
}

/** The live line rewritten on `stream` with a carriage return (a terminal nobody else redraws). */
export function inPlaceSurface(stream: NodeJS.WriteStream): LiveSurface {
  let shown: string | undefined;
  const erase = () => {
    if (shown === undefined) return;
    stream.write('\r\x1b[K');
    shown = undefined;
  };
  return {
    show(line) {
      if (line === shown) return;
      erase();
      if (line === undefined) return;
      const width = stream.columns ?? 120;
      stream.write(line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line);
      shown = line;
    },
    clear: erase,
  };
}
