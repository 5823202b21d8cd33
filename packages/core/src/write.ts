/** Files written whole: a reader of a profile or index.json never sees half of one. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes a file via a temp file and rename, so readers never see a partial file. When the
 * write or the rename fails (ENOSPC, EIO, ...), the temp file is removed and the error thrown:
 * `file` is then as it was (absent, or its previous content).
 */
export function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The write's error is the one to report.
    }
    throw e;
  }
}
