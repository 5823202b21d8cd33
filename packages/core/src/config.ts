/**
 * The `--perfprofileconfig` grammar: `<event=cycles rate=10000>`, `{event=cycles rate=10000}` and
 * `event=cycles rate=10000` are the same. Pairs are separated by whitespace, a value may be a
 * comma list, numbers accept `_` and k/M suffixes. {@link parseConfig} is pure: it returns a
 * {@link ProfileConfig} or a {@link ProfileError}, it never throws and never touches the system.
 */
import { EVENT_NAMES, type EventSpec, isPerfEvent, lookupEvent } from './events.js';
import { ProfileError, nearest } from './errors.js';

export const CONFIG_KEYS = [
  'event',
  'rate',
  'kernel',
  'precise',
  'depth',
  'fallback',
  'baseline',
  'counters',
  'alloc',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

export const DEFAULT_DEPTH = 128;
export const MAX_DEPTH = 65_535;
/** Rates or periods beyond this are refused as typos rather than clamped. */
export const MAX_RATE = 1_000_000_000_000;

/** A parsed, validated configuration. What runs it (source, availability) is decided later. */
export interface ProfileConfig {
  /** First drives sampling; the others are read at each sample (perf event group). */
  readonly events: readonly EventSpec[];
  /** Hz for clock events, a period for count events; undefined = the event's default. */
  readonly rate: number | undefined;
  readonly kernel: boolean;
  /** precise_ip 0–3; undefined = highest available. */
  readonly precise: number | undefined;
  readonly depth: number;
  readonly fallback: EventSpec | undefined;
  readonly baseline: boolean;
  /** Events counted per op during the baseline pass; undefined = the documented default set. */
  readonly counters: readonly EventSpec[] | undefined;
  /** Also write an allocation profile per benchmark (V8's sampling heap profiler). */
  readonly alloc: boolean;
}

export const DEFAULT_CONFIG: ProfileConfig = Object.freeze({
  events: [lookupEvent('auto')!],
  rate: undefined,
  kernel: false,
  precise: undefined,
  depth: DEFAULT_DEPTH,
  fallback: undefined,
  baseline: true,
  counters: undefined,
  alloc: false,
});

const err = (
  code: 'ERR_CONFIG_SYNTAX' | 'ERR_CONFIG_KEY' | 'ERR_CONFIG_VALUE' | 'ERR_CONFIG_EVENT',
  message: string,
  hint?: string,
) => new ProfileError(code, message, hint);

const quote = (s: string) => JSON.stringify(s);
const EXAMPLE = 'e.g. "event=task-clock rate=1000"';

/** Strips one pair of `<...>` or `{...}`; refuses unbalanced or nested brackets. */
function unwrap(text: string): string | ProfileError {
  const t = text.trim();
  const open = t[0];
  const close = t[t.length - 1];
  const pairs: Record<string, string> = { '<': '>', '{': '}' };
  let body = t;
  if (open === '<' || open === '{') {
    if (close !== pairs[open])
      return err(
        'ERR_CONFIG_SYNTAX',
        `config ${quote(text)} opens with "${open}" but does not end with "${pairs[open]}"`,
        `write ${open}event=... rate=...${pairs[open]} or drop the brackets`,
      );
    body = t.slice(1, -1);
  } else if (close === '>' || close === '}') {
    return err(
      'ERR_CONFIG_SYNTAX',
      `config ${quote(text)} ends with "${close}" but has no opening bracket`,
      'balance the brackets or drop them',
    );
  }
  const stray = /[<>{}]/.exec(body);
  if (stray)
    return err(
      'ERR_CONFIG_SYNTAX',
      `config ${quote(text)} has a stray "${stray[0]}"`,
      `use one pair of brackets at most, ${EXAMPLE}`,
    );
  return body;
}

/**
 * Parses a number with optional `_` separators and a k/M/G suffix (`10k`, `1_000`, `2M`).
 * Only positive integers; returns an error naming the key otherwise.
 */
export function parseCount(key: string, raw: string): number | ProfileError {
  const m = /^([0-9][0-9_]*)(?:\.([0-9_]+))?([kKmMgG]?)$/.exec(raw);
  if (!m || m[1].endsWith('_') || /__/.test(raw)) {
    if (/^[-+]/.test(raw))
      return err('ERR_CONFIG_VALUE', `${key}=${raw} is negative`, `${key} must be a positive integer, ${key}=1000`);
    return err(
      'ERR_CONFIG_VALUE',
      `${key}=${quote(raw)} is not a number`,
      `write digits with optional _ and a k or M suffix, e.g. ${key}=10k`,
    );
  }
  const scale = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 }[m[3]]!;
  const whole = Number(m[1].replace(/_/g, ''));
  const frac = m[2] !== undefined ? Number('0.' + m[2].replace(/_/g, '')) : 0;
  // 1.5k is 1500; 1.5 alone is not a count. toPrecision drops binary noise such as 1499.9999.
  const value = Number(((whole + frac) * scale).toPrecision(15));
  if (!Number.isInteger(value)) {
    return err(
      'ERR_CONFIG_VALUE',
      `${key}=${raw} is not a whole number`,
      `${key} counts whole events or Hz, e.g. ${key}=1000`,
    );
  }
  if (value > MAX_RATE || !Number.isSafeInteger(value))
    return err('ERR_CONFIG_VALUE', `${key}=${raw} is too large`, `${key} must be at most ${MAX_RATE.toExponential(0)}`);
  return value;
}

/** A boolean option's value; `fallback` when the key is not given. */
function parseBool(key: string, raw: string | undefined, fallback: boolean): boolean | ProfileError {
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase();
  if (['true', 'on', 'yes', '1'].includes(v)) return true;
  if (['false', 'off', 'no', '0'].includes(v)) return false;
  return err('ERR_CONFIG_VALUE', `${key}=${quote(raw)} is not a boolean`, `write ${key}=true or ${key}=false`);
}

function parseEvent(key: string, raw: string): EventSpec | ProfileError {
  if (raw === '')
    return err(
      'ERR_CONFIG_EVENT',
      `${key} has an empty event name`,
      `list events without blanks, e.g. ${key}=task-clock,page-faults`,
    );
  const spec = lookupEvent(raw);
  if (spec) return spec;
  if (/[^\x20-\x7e]/.test(raw)) {
    return err(
      'ERR_CONFIG_EVENT',
      `unknown event ${quote(raw)}: it contains non-ASCII characters`,
      'retype the name in plain ASCII; `perfprofile events` lists them',
    );
  }
  const guess = nearest(raw, EVENT_NAMES);
  return err(
    'ERR_CONFIG_EVENT',
    `unknown event ${quote(raw)}`,
    guess ? `did you mean "${guess}"? \`perfprofile events\` lists them` : '`perfprofile events` lists the events',
  );
}

function parseEventList(key: string, raw: string): EventSpec[] | ProfileError {
  const out: EventSpec[] = [];
  for (const part of raw.split(',')) {
    const e = parseEvent(key, part);
    if (e instanceof ProfileError) return e;
    if (out.some((o) => o.name === e.name))
      return err('ERR_CONFIG_EVENT', `${key} lists "${e.name}" twice`, 'name each event once');
    out.push(e);
  }
  return out;
}

/**
 * Parses a config string. Never throws: bad input comes back as a {@link ProfileError} whose
 * message names the bad key or value and whose hint says what to write instead.
 */
export function parseConfig(text: string | undefined): ProfileConfig | ProfileError {
  if (text === undefined) return DEFAULT_CONFIG;
  if (typeof text !== 'string') return err('ERR_CONFIG_SYNTAX', 'config must be a string', EXAMPLE);
  const body = unwrap(text);
  if (body instanceof ProfileError) return body;
  const seen = new Map<ConfigKey, string>();
  const tokens = body.split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0 && text.trim() !== '' && !/^[<{]\s*[>}]$/.test(text.trim())) {
    return err('ERR_CONFIG_SYNTAX', `config ${quote(text)} has no key=value pairs`, EXAMPLE);
  }
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      const guess = nearest(token, CONFIG_KEYS);
      return err(
        'ERR_CONFIG_SYNTAX',
        `config item ${quote(token)} is not key=value`,
        guess ? `did you mean "${guess}=..."? ${EXAMPLE}` : EXAMPLE,
      );
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (key === '') return err('ERR_CONFIG_SYNTAX', `config item ${quote(token)} has no key before "="`, EXAMPLE);
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      const guess = nearest(key, CONFIG_KEYS);
      return err(
        'ERR_CONFIG_KEY',
        `unknown config key ${quote(key)}`,
        guess ? `did you mean "${guess}"? keys: ${CONFIG_KEYS.join(', ')}` : `keys: ${CONFIG_KEYS.join(', ')}`,
      );
    }
    if (value === '')
      return err(
        'ERR_CONFIG_VALUE',
        `config key "${key}" has no value`,
        `write ${key}=<value> with no spaces around "="`,
      );
    if (value.includes('='))
      return err(
        'ERR_CONFIG_SYNTAX',
        `config item ${quote(token)} has more than one "="`,
        'separate pairs with spaces',
      );
    if (seen.has(key as ConfigKey))
      return err(
        'ERR_CONFIG_KEY',
        `config key "${key}" is given twice (${key}=${seen.get(key as ConfigKey)} and ${key}=${value})`,
        'give each key once',
      );
    seen.set(key as ConfigKey, value);
  }
  return resolvePairs(seen);
}

function resolvePairs(pairs: Map<ConfigKey, string>): ProfileConfig | ProfileError {
  let events = DEFAULT_CONFIG.events;
  let rate: number | undefined;
  let precise: number | undefined;
  let depth = DEFAULT_DEPTH;
  let fallback: EventSpec | undefined;
  let counters: EventSpec[] | undefined;

  const ev = pairs.get('event');
  if (ev !== undefined) {
    const list = parseEventList('event', ev);
    if (list instanceof ProfileError) return list;
    events = list;
    const [first, ...extra] = list;
    if (extra.length > 0) {
      if (!isPerfEvent(first))
        return err(
          'ERR_CONFIG_EVENT',
          `event=${ev}: "${first.name}" cannot read extra events at each sample`,
          'only perf events (e.g. task-clock, cycles) take a list; put the sampling event first',
        );
      const bad = extra.find((e) => !isPerfEvent(e));
      if (bad)
        return err(
          'ERR_CONFIG_EVENT',
          `event=${ev}: "${bad.name}" cannot be read at each sample`,
          'extra events must be perf events such as page-faults or instructions',
        );
    }
  }
  const r = pairs.get('rate');
  if (r !== undefined) {
    if (r === '0' || /^0[kKmMgG]?$/.test(r.replace(/_/g, '')))
      return err(
        'ERR_CONFIG_VALUE',
        `rate=${r} must be greater than zero`,
        'e.g. rate=1000 (Hz for clock events, a period for count events)',
      );
    const n = parseCount('rate', r);
    if (n instanceof ProfileError) return n;
    if (n <= 0) return err('ERR_CONFIG_VALUE', `rate=${r} must be greater than zero`, 'e.g. rate=1000');
    rate = n;
  }
  const kernel = parseBool('kernel', pairs.get('kernel'), false);
  if (kernel instanceof ProfileError) return kernel;
  const p = pairs.get('precise');
  if (p !== undefined) {
    if (!/^[0-3]$/.test(p))
      return err(
        'ERR_CONFIG_VALUE',
        `precise=${p} is not a skid level`,
        'precise takes 0, 1, 2 or 3 (precise_ip); omit it for the highest available',
      );
    precise = Number(p);
  }
  const d = pairs.get('depth');
  if (d !== undefined) {
    const n = parseCount('depth', d);
    if (n instanceof ProfileError) return n;
    if (n < 1 || n > MAX_DEPTH)
      return err(
        'ERR_CONFIG_VALUE',
        `depth=${d} is out of range`,
        `depth takes 1 to ${MAX_DEPTH} frames (default ${DEFAULT_DEPTH})`,
      );
    depth = n;
  }
  const f = pairs.get('fallback');
  if (f !== undefined) {
    if (f.includes(','))
      return err(
        'ERR_CONFIG_VALUE',
        `fallback=${f} names more than one event`,
        'fallback takes a single event, e.g. fallback=task-clock',
      );
    const e = parseEvent('fallback', f);
    if (e instanceof ProfileError) return e;
    if (e.name === events[0].name)
      return err(
        'ERR_CONFIG_VALUE',
        `fallback=${f} is the same as the sampling event`,
        'name a different event, e.g. event=cycles fallback=task-clock',
      );
    if (e.kind === 'auto')
      return err('ERR_CONFIG_VALUE', 'fallback=auto is not allowed', 'name a concrete event, or use event=auto');
    fallback = e;
  }
  const baseline = parseBool('baseline', pairs.get('baseline'), true);
  if (baseline instanceof ProfileError) return baseline;
  const c = pairs.get('counters');
  if (c !== undefined) {
    if (c.toLowerCase() === 'none') counters = [];
    else {
      const list = parseEventList('counters', c);
      if (list instanceof ProfileError) return list;
      const bad = list.find((e) => !isPerfEvent(e));
      if (bad)
        return err(
          'ERR_CONFIG_VALUE',
          `counters: "${bad.name}" cannot be counted`,
          'counters take perf events such as task-clock, page-faults, instructions (or counters=none)',
        );
      counters = list;
    }
  }
  const alloc = parseBool('alloc', pairs.get('alloc'), false);
  if (alloc instanceof ProfileError) return alloc;
  return { events, rate, kernel, precise, depth, fallback, baseline, counters, alloc };
}

/** The config written back in canonical form, `{event=... rate=...}`, for comments and index.json. */
export function formatConfig(c: ProfileConfig): string {
  const parts = [`event=${c.events.map((e) => e.name).join(',')}`];
  if (c.rate !== undefined) parts.push(`rate=${c.rate}`);
  if (c.kernel) parts.push('kernel=true');
  if (c.precise !== undefined) parts.push(`precise=${c.precise}`);
  if (c.depth !== DEFAULT_DEPTH) parts.push(`depth=${c.depth}`);
  if (c.fallback) parts.push(`fallback=${c.fallback.name}`);
  if (!c.baseline) parts.push('baseline=false');
  if (c.alloc) parts.push('alloc=true');
  if (c.counters) parts.push(`counters=${c.counters.length ? c.counters.map((e) => e.name).join(',') : 'none'}`);
  return `{${parts.join(' ')}}`;
}
