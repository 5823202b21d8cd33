/**
 * Gunzip with a size limit, in front of every decoder: inputs that inflate beyond the limit
 * (zip bombs) are refused without being inflated whole.
 */
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { ProfileError } from './errors.js';

/** Decoders refuse inputs that inflate beyond this (zip bombs); override per call. */
export const DEFAULT_MAX_DECODED_BYTES = 256 * 1024 * 1024;

export interface DecodeOptions {
  /** Refuse inputs whose decompressed size exceeds this many bytes. */
  readonly maxBytes?: number;
}

/** True when the bytes start with the gzip magic (1f 8b). */
export const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** The error for an input of `size` bytes, over the `max`-byte limit before inflating. */
export function tooLarge(what: string, size: number, max: number): ProfileError {
  return new ProfileError(
    'ERR_DECODE',
    `${what} is ${size} bytes, over the ${max}-byte limit`,
    'raise the limit (--max-bytes) if the file is genuine',
  );
}

/** Gunzips when the bytes start with the gzip magic; enforces the size limit either way. */
export function inflate(bytes: Uint8Array, options: DecodeOptions = {}, what = 'input'): Uint8Array {
  const max = options.maxBytes ?? DEFAULT_MAX_DECODED_BYTES;
  if (!isGzip(bytes)) {
    if (bytes.length > max) throw tooLarge(what, bytes.length, max);
    return bytes;
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: max });
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (
      error.code === 'ERR_BUFFER_TOO_LARGE' ||
      error.code === 'ERR_OUT_OF_RANGE' ||
      /Cannot create a Buffer larger|too large/i.test(error.message)
    ) {
      throw new ProfileError(
        'ERR_DECODE',
        `${what} inflates beyond the ${max}-byte limit (a gzip bomb, or a huge profile)`,
        'raise the limit (--max-bytes) if the file is genuine',
      );
    }
    if (error.code === 'Z_BUF_ERROR' || error.errno === zlibConstants.Z_BUF_ERROR) {
      throw new ProfileError(
        'ERR_DECODE',
        `${what} is a truncated gzip stream`,
        'the file was cut short; write it again',
      );
    }
    throw new ProfileError(
      'ERR_DECODE',
      `${what} is not valid gzip: ${error.message}`,
      'pass a .pb.gz or .pb pprof file',
    );
  }
}
