/** The in-process inspector session, used synchronously (V8's CPU and heap samplers). */
import type { Session } from 'node:inspector';

/**
 * Posts `method` and returns its result. The in-process session answers before `post` returns,
 * so the callback has run by then; an error it reported is thrown.
 */
export function post<T>(session: Session, method: string, params?: object): T {
  let result: T | undefined;
  let error: Error | null = null;
  let answered = false;
  session.post(method, params ?? {}, (e, r) => {
    answered = true;
    error = e;
    result = r as T;
  });
  if (error) throw error;
  // V8 answers a few methods from a task (HeapProfiler.collectGarbage): their effect comes later.
  if (!answered) throw new Error(`perfprofile: ${method} did not answer synchronously`);
  return result as T;
}
