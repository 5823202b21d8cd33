/**
 * A failed write to the output directory (full disk, quota, read-only, I/O error) as one line and an error.
 *
 * The line names the directory, the errno and what to do. Workers throw the error to Vitest as
 * the benchmark's error; the main process recognizes it among Vitest's errors by its name and
 * prefix, and uses the same wording when index.json itself cannot be written.
 */

/** The error's name, kept by Vitest's error serialization from worker to main process. */
export const WRITE_ERROR_NAME = 'PerfprofileWriteError';
/** Every message starts with it, should a name be lost on the way. */
export const WRITE_ERROR_PREFIX = 'perfprofile: could not write ';

/** `no space left on <dir> (ENOSPC): free space or pass another --perfprofile directory`, etc. */
export function writeFailureReason(dir: string, error: unknown): string {
  const e = error as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const other = 'pass another --perfprofile directory';
  switch (code) {
    case 'ENOSPC':
      return `no space left on ${dir} (ENOSPC): free space or ${other}`;
    case 'EDQUOT':
      return `disk quota exceeded on ${dir} (EDQUOT): free space or ${other}`;
    case 'EROFS':
      return `${dir} is on a read-only file system (EROFS): ${other}`;
    case 'EIO':
      return `input/output error writing to ${dir} (EIO): check the disk or ${other}`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to write to ${dir} (${code}): fix its permissions or ${other}`;
    case 'EFBIG':
      return `file too large for ${dir} (EFBIG): ${other}`;
    default: {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(error);
      return `cannot write to ${dir} (${code ?? message}): ${other}`;
    }
  }
}

export class OutputWriteError extends Error {
  override readonly name = WRITE_ERROR_NAME;
  /** The errno code (ENOSPC, ...), or `error` when the failure had none. */
  declare readonly code: string;
  /** {@link writeFailureReason}'s line. */
  declare readonly reason: string;
  /** Full name of the benchmark the file belonged to; undefined for the run's own files (index.json). */
  declare readonly benchmark: string | undefined;

  /**
   * `what`: the file's role, e.g. `the profile of "a > b"`; `reason` from {@link writeFailureReason};
   * `benchmark`: the full name of the benchmark whose file it was, if any.
   */
  constructor(what: string, reason: string, cause: unknown, benchmark?: string) {
    super(`${WRITE_ERROR_PREFIX}${what}: ${reason}`);
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    // Not enumerable, so not printed under a local error (the message says it all); Vitest's
    // serialization to the main process copies own properties all the same.
    Object.defineProperty(this, 'code', { value: typeof code === 'string' ? code : 'error' });
    Object.defineProperty(this, 'reason', { value: reason });
    Object.defineProperty(this, 'benchmark', { value: benchmark });
    // Vitest prints an error's stack: this one is a condition of the disk, not a bug, so one line.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** An {@link OutputWriteError} as Vitest reports it to the main process: a plain copy of its own properties. */
export interface ReportedWriteError {
  readonly name: string;
  readonly message: string;
  readonly reason?: string;
  readonly benchmark?: string;
}

/** True for an {@link OutputWriteError}, also one serialized by Vitest (by name, or by message should the name be lost). */
export function isWriteError(e: unknown): e is ReportedWriteError {
  if (!e || typeof e !== 'object') return false;
  const { name, message } = e as { name?: unknown; message?: unknown };
  return typeof message === 'string' && (name === WRITE_ERROR_NAME || message.startsWith(WRITE_ERROR_PREFIX));
}
