/**
 * Raw native stacks → source samples: parses V8's code names (`JS:*hot file:///a.mjs:7:20`)
 * into frames with a tier, names builtins and native code, expands JS frames at a code offset
 * into their inline chains when a V8 log names them (native-inline.ts), else gives them what
 * the addon read from V8's line tables (their line, an inferred inlined function), and appends
 * the truncation frame.
 */
// Types only: @perfprofile/native is optional at runtime, and its names come from the binding.
import type { FrameKind, RawCode, RawFrame, RawStack } from '@perfprofile/native';
import type { InlineNamer } from './native-inline.js';
import type { SourceFrame, SourceSample, Tier } from './source.js';
import { urlToFile } from './v8.js';

/** What the addon's numbers stand for: its `frameKinds` and `vmStates`, by number. */
export interface NativeNames {
  readonly frameKinds: readonly FrameKind[];
  readonly vmStates: readonly string[];
}

const TIERS: Record<string, Tier> = { '~': 'ignition', '^': 'sparkplug', '+': 'maglev', '*': 'turbofan' };

/**
 * One frame from V8's code name. JS names are `<Tag>:<marker>[']<name> <url>[:line:col]`: the
 * marker gives the tier, the url the file, line:col where the function starts. The name
 * says nothing of the sampled position, so `line` is the start line (native-inline.ts puts the
 * position's line there when V8's log names it).
 */
export function parseFrame(raw: Readonly<RawFrame>, kinds: readonly FrameKind[]): SourceFrame {
  const [systemName, kindNo] = raw;
  const kind: SourceFrame['kind'] = kinds[kindNo] ?? 'unknown';
  if (kind !== 'js' && kind !== 'builtin') return { name: systemName, file: '', line: 0, startLine: 0, kind };
  const colon = systemName.indexOf(':');
  const tag = colon > 0 && /^[A-Za-z]+$/.test(systemName.slice(0, colon)) ? systemName.slice(0, colon) : '';
  let rest = tag ? systemName.slice(colon + 1) : systemName;
  if (kind === 'builtin') {
    const name = tag === 'RegExp' ? `(regexp) ${rest}` : rest.startsWith('(') ? rest : `(builtin) ${rest}`;
    return { name, systemName, file: '', line: 0, startLine: 0, kind };
  }
  let tier: Tier | undefined;
  const marker = TIERS[rest[0]];
  if (marker) {
    tier = marker;
    rest = rest.slice(1);
    // V8 >= 12 marks context-specialized Maglev/TurboFan code with a quote after the tier: `*'hot`.
    if (rest[0] === "'") rest = rest.slice(1);
  }
  // The url is the last space-separated word (function names may contain spaces: "get x").
  const space = rest.lastIndexOf(' ');
  let name = space >= 0 ? rest.slice(0, space) : rest;
  let where = space >= 0 ? rest.slice(space + 1) : '';
  if (space < 0 && /^(file|node|data|https?):/.test(rest)) {
    name = '';
    where = rest;
  }
  let startLine = 0;
  let column: number | undefined;
  const pos = /:(\d+):(\d+)$/.exec(where);
  if (pos) {
    startLine = Number(pos[1]);
    column = Number(pos[2]);
    where = where.slice(0, pos.index);
  }
  const frame: SourceFrame = {
    name: name || '(anonymous)',
    systemName,
    file: urlToFile(where),
    line: startLine,
    startLine,
    kind,
    ...(column !== undefined ? { column } : {}),
    ...(tier ? { tier } : {}),
  };
  return frame;
}

/**
 * Folded raw stacks → source samples, leaf first, with `(truncated N frames)` appended when cut
 * (N counts the physical frames cut: what inlined functions they held is not known). With
 * `inline`, JS frames at a code offset get their line there and their inline chain.
 */
export function toSourceSamples(
  frames: readonly Readonly<RawFrame>[],
  stacks: readonly RawStack[],
  names: NativeNames,
  inline?: InlineNamer,
): SourceSample[] {
  // Frames of one function differ per code offset: parse each name once.
  const byName = new Map<string, SourceFrame>();
  const parsed = frames.map((f) => {
    const key = `${f[1]}\u0000${f[0]}`;
    let frame = byName.get(key);
    if (!frame) byName.set(key, (frame = parseFrame(f, names.frameKinds)));
    const code = f[2];
    if (!code || frame.kind !== 'js') return frame;
    return inline?.expand(frame, code, f[0]) ?? fromLineTable(frame, code, names.frameKinds);
  });
  return stacks.map((s) => {
    const out: SourceFrame[] = s.frames.map((i) => parsed[i]);
    if (s.truncated > 0)
      out.push({ name: `(truncated ${s.truncated} frames)`, file: '', line: 0, startLine: 0, kind: 'truncated' });
    return { frames: out, values: s.values, count: s.count, vmState: names.vmStates[s.vmState] ?? 'OTHER' };
  });
}

/** What marks a function inferred rather than read from V8's inlining table, in its name. */
export const INFERRED_SUFFIX = ' (inferred)';

/**
 * `frame` at `code` as V8's line tables give it without the log (native/src/line_tables.h):
 * its own line and column there when certain, and the innermost inlined function when exactly
 * one known function explains the position, its name marked {@link INFERRED_SUFFIX} (the frame
 * then keeps its function's first line: the call site is not known). Else unchanged.
 */
export function fromLineTable(frame: SourceFrame, code: RawCode, kinds: readonly FrameKind[]): SourceFrame {
  let at = frame;
  if (code.line) {
    // The parsed column is where the function starts: replaced by the position's.
    const { column: _start, ...rest } = frame;
    at = { ...rest, line: code.line, ...(code.column ? { column: code.column } : {}) };
  }
  const inferred = code.inferred;
  if (!inferred) return at;
  const fn = parseFrame([inferred.name, kinds.indexOf('js')], kinds);
  const { column: _start, tier: _tier, ...rest } = fn;
  const inlined: SourceFrame = {
    ...rest,
    name: fn.name + INFERRED_SUFFIX,
    line: inferred.line,
    ...(inferred.column ? { column: inferred.column } : {}),
    ...(frame.tier ? { tier: frame.tier } : {}),
  };
  return { ...at, inline: [inlined] };
}
