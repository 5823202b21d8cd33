/**
 * Errors are values: a stable `code` for programs, a `message` that names what is wrong, and a
 * `hint` that says how to fix it. The edges (CLI, Vitest plugin) turn one into a single stderr
 * line with {@link formatError} and exit code 2.
 */
export type ErrorCode =
  | 'ERR_CONFIG_SYNTAX'
  | 'ERR_CONFIG_KEY'
  | 'ERR_CONFIG_VALUE'
  | 'ERR_CONFIG_EVENT'
  | 'ERR_EVENT_UNAVAILABLE'
  | 'ERR_PROFILE_RUNNING'
  | 'ERR_PROFILE_STATE'
  | 'ERR_DECODE'
  | 'ERR_MERGE'
  | 'ERR_IO'
  | 'ERR_INPUT'
  | 'ERR_USAGE';

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

/** True for a {@link ProfileError}, also one created by another copy of this package. */
export function isProfileError(value: unknown): value is ProfileError {
  return value instanceof ProfileError || (value instanceof Error && value.name === 'ProfileError' && 'code' in value);
}

/** One line, `prefix: message (hint)`, fit for stderr. */
export function formatError(error: ProfileError, prefix = 'perfprofile'): string {
  const line = error.hint ? `${error.message} (${error.hint})` : error.message;
  return `${prefix}: ${line.replace(/\s*\n\s*/g, ' ')}`;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The candidate nearest to `word`, if it is near enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
