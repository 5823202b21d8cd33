/** A small terminal screen model, to check what a run's output leaves on screen. */

/** The screen after `output`: text, \r, \n, erase to end of line, cursor up; other escapes ignored. */
export function replay(output: string): string[] {
  const screen: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = screen[row].padEnd(col);
    screen[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < output.length; i++) {
    const ch = output[i];
    if (ch === '\x1b') {
      const csi = /^\x1b\[([?\d;]*)([A-Za-z])/.exec(output.slice(i));
      if (!csi) continue;
      i += csi[0].length - 1;
      if (csi[2] === 'K') screen[row] = screen[row].slice(0, col);
      else if (csi[2] === 'A') row = Math.max(0, row - Number(csi[1] || 1));
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      while (screen.length <= row) screen.push('');
    } else put(ch);
  }
  return screen.map((l) => l.trimEnd());
}
