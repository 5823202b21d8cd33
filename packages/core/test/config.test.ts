import { describe, expect, it } from 'vitest';
import { formatConfig, isProfileError, parseConfig, parseCount, resolveRun, type ProfileConfig } from '../src/index.js';

const ok = (text: string): ProfileConfig => {
  const c = parseConfig(text);
  if (isProfileError(c)) throw new Error(`expected ${text} to parse: ${c.message}`);
  return c;
};

describe('parseConfig', () => {
  it('reads the three bracket forms the same', () => {
    const forms = [
      '<event=task-clock rate=10000>',
      '{event=task-clock rate=10000}',
      'event=task-clock rate=10000',
      '  { event=task-clock   rate=10000 }  ',
    ];
    const canonical = forms.map((f) => formatConfig(ok(f)));
    expect(new Set(canonical).size).toBe(1);
    expect(canonical[0]).toBe('{event=task-clock rate=10000}');
  });

  it('accepts _ and k/M suffixes, lists, and every key', () => {
    const c = ok(
      'event=task-clock,page-faults rate=10k kernel=true precise=2 depth=1_000 fallback=v8 baseline=off counters=task-clock,instructions alloc=on',
    );
    expect(c.events.map((e) => e.name)).toEqual(['task-clock', 'page-faults']);
    expect(c.rate).toBe(10_000);
    expect(c.kernel).toBe(true);
    expect(c.precise).toBe(2);
    expect(c.depth).toBe(1000);
    expect(c.fallback?.name).toBe('v8');
    expect(c.baseline).toBe(false);
    expect(c.counters?.map((e) => e.name)).toEqual(['task-clock', 'instructions']);
    expect(c.alloc).toBe(true);
    expect(formatConfig(c)).toContain(' alloc=true ');
    expect(ok('rate=2M').rate).toBe(2_000_000);
    expect(ok('rate=1.5k').rate).toBe(1500);
    expect(ok('event=r01C2').events[0]).toMatchObject({ name: 'r01c2', kind: 'raw' });
  });

  it('defaults: auto, no rate, depth 128, baseline on, default counters', () => {
    const c = ok('');
    expect(c.events[0].name).toBe('auto');
    expect(c).toMatchObject({
      rate: undefined,
      depth: 128,
      baseline: true,
      counters: undefined,
      kernel: false,
      alloc: false,
    });
    expect(formatConfig(ok('{}'))).toBe('{event=auto}');
  });

  // Each row: input, error code, fragments the one-line message or hint must contain.
  const malformed: [string, string, string[]][] = [
    ['<event=cycles', 'ERR_CONFIG_SYNTAX', ['does not end with ">"']],
    ['{event=cycles>', 'ERR_CONFIG_SYNTAX', ['"}"']],
    ['event=cycles}', 'ERR_CONFIG_SYNTAX', ['no opening bracket']],
    ['{{event=cycles}}', 'ERR_CONFIG_SYNTAX', ['stray']],
    ['event', 'ERR_CONFIG_SYNTAX', ['"event"', 'not key=value', 'did you mean "event=...']],
    ['=cycles', 'ERR_CONFIG_SYNTAX', ['no key']],
    ['event==cycles', 'ERR_CONFIG_SYNTAX', ['more than one "="']],
    ['evnt=cycles', 'ERR_CONFIG_KEY', ['"evnt"', 'did you mean "event"']],
    ['sample=1', 'ERR_CONFIG_KEY', ['"sample"', 'keys:']],
    ['rate=1 rate=2', 'ERR_CONFIG_KEY', ['"rate" is given twice']],
    ['event=', 'ERR_CONFIG_VALUE', ['"event" has no value']],
    ['event=cylces', 'ERR_CONFIG_EVENT', ['"cylces"', 'did you mean "cycles"']],
    ['event=task_clock', 'ERR_CONFIG_EVENT', ['"task_clock"', 'did you mean "task-clock"']],
    ['event=foo', 'ERR_CONFIG_EVENT', ['"foo"', 'perfprofile events']],
    ['event=сycles', 'ERR_CONFIG_EVENT', ['non-ASCII']],
    ['event=task-clock,,page-faults', 'ERR_CONFIG_EVENT', ['empty event name']],
    ['event=task-clock,', 'ERR_CONFIG_EVENT', ['empty event name']],
    ['event=task-clock,task-clock', 'ERR_CONFIG_EVENT', ['"task-clock" twice']],
    ['event=v8,page-faults', 'ERR_CONFIG_EVENT', ['"v8" cannot read extra events']],
    ['event=task-clock,timer', 'ERR_CONFIG_EVENT', ['"timer" cannot be read']],
    ['rate=0', 'ERR_CONFIG_VALUE', ['rate=0', 'greater than zero']],
    ['rate=-5', 'ERR_CONFIG_VALUE', ['rate=-5', 'negative']],
    ['rate=1.5', 'ERR_CONFIG_VALUE', ['rate=1.5', 'whole number']],
    ['rate=abc', 'ERR_CONFIG_VALUE', ['rate="abc"', 'not a number']],
    ['rate=10x', 'ERR_CONFIG_VALUE', ['rate="10x"']],
    ['rate=99999999999999999999', 'ERR_CONFIG_VALUE', ['too large']],
    ['rate=1__0', 'ERR_CONFIG_VALUE', ['not a number']],
    ['rate=_10', 'ERR_CONFIG_VALUE', ['not a number']],
    ['kernel=maybe', 'ERR_CONFIG_VALUE', ['kernel="maybe"', 'kernel=true']],
    ['precise=4', 'ERR_CONFIG_VALUE', ['precise=4', '0, 1, 2 or 3']],
    ['depth=0', 'ERR_CONFIG_VALUE', ['depth=0', 'out of range']],
    ['depth=100000', 'ERR_CONFIG_VALUE', ['depth=100000', 'out of range']],
    ['fallback=cycles,task-clock', 'ERR_CONFIG_VALUE', ['more than one event']],
    ['event=task-clock fallback=task-clock', 'ERR_CONFIG_VALUE', ['same as the sampling event']],
    ['fallback=auto', 'ERR_CONFIG_VALUE', ['fallback=auto']],
    ['fallback=cyc', 'ERR_CONFIG_EVENT', ['"cyc"']],
    ['baseline=2', 'ERR_CONFIG_VALUE', ['baseline="2"']],
    ['alloc=maybe', 'ERR_CONFIG_VALUE', ['alloc="maybe" is not a boolean', 'alloc=true']],
    ['aloc=on', 'ERR_CONFIG_KEY', ['"aloc"', 'did you mean "alloc"']],
    ['counters=v8', 'ERR_CONFIG_VALUE', ['"v8" cannot be counted']],
    ['counters=task-clock,bogus', 'ERR_CONFIG_EVENT', ['"bogus"']],
    ['event=cycles rate=10000 extra', 'ERR_CONFIG_SYNTAX', ['"extra"']],
  ];

  it.each(malformed)('refuses %j with a message naming the problem', (text, code, fragments) => {
    const result = parseConfig(text);
    expect(isProfileError(result), `${text} should fail`).toBe(true);
    if (!isProfileError(result)) return;
    expect(result.code).toBe(code);
    const line = `${result.message} (${result.hint})`;
    expect(line).not.toContain('\n');
    for (const f of fragments) expect(line).toContain(f);
  });

  it('has at least 25 malformed cases', () => {
    expect(malformed.length).toBeGreaterThanOrEqual(25);
  });
});

describe('parseCount', () => {
  it('reads suffixes and separators', () => {
    expect(parseCount('rate', '10_000')).toBe(10_000);
    expect(parseCount('rate', '10K')).toBe(10_000);
    expect(parseCount('rate', '3G')).toBe(3e9);
  });
});

describe('resolveRun', () => {
  it('clamps a too-fast clock rate with a warning that says so', () => {
    const run = resolveRun(ok('event=v8 rate=1M'));
    if (isProfileError(run)) throw run;
    expect(run.rate).toBe(20_000);
    expect(run.period).toBe(50_000);
    expect(run.warnings.join()).toMatch(/rate=1000000 is above the 20000 Hz maximum for v8; clamped to 20000 Hz/);
  });

  it('uses the event default rate when none is given', () => {
    const run = resolveRun(ok('event=v8'));
    if (isProfileError(run)) throw run;
    expect(run.rate).toBe(997);
  });

  it('refuses kernel=true with the v8 source', () => {
    const run = resolveRun(ok('event=v8 kernel=true'));
    expect(isProfileError(run) && run.message).toMatch(/kernel=true needs a perf event/);
  });

  it('auto always resolves to something that runs here', () => {
    const run = resolveRun(ok('event=auto'));
    if (isProfileError(run)) throw run;
    expect(['v8', 'perf_event', 'timer']).toContain(run.source);
    expect(run.reason).toMatch(/^event=auto chose /);
  });

  it('hardware events fail with the cause, or fall back when asked', () => {
    const run = resolveRun(ok('event=cycles'));
    if (!isProfileError(run)) return; // a machine with a PMU
    expect(run.code).toBe('ERR_EVENT_UNAVAILABLE');
    expect(run.message).toMatch(/event cycles is unavailable: /);
    const fb = resolveRun(ok('event=cycles fallback=v8'));
    if (isProfileError(fb)) throw fb;
    expect(fb.source).toBe('v8');
    expect(fb.warnings.join()).toMatch(/using fallback v8/);
  });
});
