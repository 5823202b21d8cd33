/**
 * Reading a profile file whatever its format: pprof (gzipped or raw protobuf), Chrome's
 * `.cpuprofile` JSON, or collapsed stacks. Size limits apply before anything is parsed.
 */
import { readFileSync, statSync } from 'node:fs';
import { fromCpuProfile, looksCpuProfile } from './chrome.js';
import { fromCollapsed, looksCollapsed } from './collapsed.js';
import { ProfileError } from './errors.js';
import type { Profile } from './model.js';
import { decode } from './decode.js';
import { DEFAULT_MAX_DECODED_BYTES, isGzip, tooLarge, type DecodeOptions } from './inflate.js';

/** Loads `file` as a profile; ERR_INPUT when unreadable, ERR_DECODE when no format fits. */
export function loadProfile(file: string, options: DecodeOptions = {}): Profile {
  const max = options.maxBytes ?? DEFAULT_MAX_DECODED_BYTES;
  let bytes: Buffer;
  try {
    const size = statSync(file).size;
    if (size > max) throw tooLarge(file, size, max);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof ProfileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError(
      'ERR_INPUT',
      `cannot read ${file} (${code ?? (e as Error).message})`,
      code === 'ENOENT'
        ? 'check the path'
        : code === 'EISDIR'
          ? 'pass a profile file, or a perf.out directory where the command accepts one'
          : 'check the file',
    );
  }
  if (bytes.length === 0)
    throw new ProfileError(
      'ERR_DECODE',
      `${file} is empty`,
      'pass a pprof (.pb.gz), .cpuprofile or collapsed-stacks file',
    );
  if (isGzip(bytes)) return decode(bytes, options, file);
  const head = bytes.subarray(0, 64).toString('utf8').trimStart();
  if (head.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw new ProfileError(
        'ERR_DECODE',
        `${file} starts like JSON but does not parse: ${(e as Error).message}`,
        'pass a complete .cpuprofile',
      );
    }
    if (!looksCpuProfile(json))
      throw new ProfileError(
        'ERR_DECODE',
        `${file} is JSON but not a .cpuprofile (no nodes/samples)`,
        'pass a file written by node --cpu-prof or DevTools',
      );
    return fromCpuProfile(json, file);
  }
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD') && looksCollapsed(text)) return fromCollapsed(text, file);
  return decode(bytes, options, file);
}
