// The fuzz targets and their invariants, shared by fuzz.mjs (against the instrumented build)
// and test/fuzz-corpus.test.ts (the checked-in corpus against the sources, on every test run).
// A check returns normally for accepted or cleanly refused input; it throws for anything else.
// Errors marked `invariant` are broken properties rather than crashes.

function invariant(ok, message) {
  if (!ok) throw Object.assign(new Error(message), { invariant: true });
}

/** Refusals must be ProfileErrors with a one-line message. */
function refused(core, e) {
  if (!core.isProfileError(e)) throw e;
  invariant(!/[\r\n]/.test(e.message), `error message spans lines: ${JSON.stringify(e.message)}`);
  return undefined;
}

export const TARGETS = {
  config: {
    dictionary: [
      'event=',
      'rate=',
      'kernel=',
      'precise=',
      'depth=',
      'fallback=',
      'baseline=',
      'counters=',
      'cycles',
      'task-clock',
      'page-faults',
      'timer',
      'v8',
      'auto',
      'r1c2',
      'none',
      'true',
      'off',
      ',',
      ' ',
      '<',
      '>',
      '{',
      '}',
      '=',
      '10k',
      '1M',
      '1_000',
      '0',
      '-1',
      '1.5',
      '1e9',
      '99999999999999999999',
      'ｅvent',
      'еvent',
      '\u00a0',
      '\t',
      ',,',
    ],
    check: (core) => (input) => {
      const text = input.toString('utf8');
      const parsed = core.parseConfig(text);
      if (core.isProfileError(parsed)) return refused(core, parsed);
      // Accepted configs round-trip through their canonical text.
      const again = core.parseConfig(core.formatConfig(parsed));
      invariant(
        !core.isProfileError(again),
        `formatConfig(${JSON.stringify(text)}) does not parse back: ${again.message}`,
      );
      invariant(
        core.formatConfig(again) === core.formatConfig(parsed),
        `formatConfig is not stable for ${JSON.stringify(text)}`,
      );
    },
  },
  pprof: {
    dictionary: [
      [0x1f, 0x8b, 0x08, 0x00],
      [0x0a, 0x04, 0x08, 0x01, 0x10, 0x02],
      [0x12, 0x06, 0x08, 0x01, 0x12, 0x02, 0x02, 0x03],
      [0x2a, 0x00],
      [0x32, 0x07, 's', 'a', 'm', 'p', 'l', 'e', 's'].map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c)),
      [0x22, 0x04, 0x08, 0x01, 0x22, 0x00],
      [0xff, 0xff, 0xff, 0xff, 0x0f],
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
      [0x00],
    ],
    check: (core) => (input) => {
      let p;
      try {
        p = core.decode(input, { maxBytes: 1 << 20 });
      } catch (e) {
        return refused(core, e);
      }
      // What decodes re-encodes, and decodes to the same samples.
      const back = core.decode(core.encode(p));
      invariant(back.samples.length === p.samples.length, 'sample count changed through encode/decode');
      invariant(
        JSON.stringify(back.sampleTypes) === JSON.stringify(p.sampleTypes),
        'sample types changed through encode/decode',
      );
    },
  },
  cpuprofile: {
    dictionary: [
      '{"nodes":[',
      ']',
      '}',
      '{"id":1,"callFrame":{"functionName":"a","scriptId":"0","url":"","lineNumber":0,"columnNumber":0},"hitCount":1,"children":[2]}',
      '"samples":[1,2]',
      '"timeDeltas":[1,1]',
      '"startTime":0',
      '"endTime":10',
      ',',
      '-1',
      '1e308',
      'null',
      '"children":[1]',
    ],
    check: (core) => (input) => {
      let json;
      try {
        json = JSON.parse(input.toString('utf8'));
      } catch {
        return undefined; // not JSON: input.ts refuses it before this reader is reached
      }
      if (!core.looksCpuProfile(json)) return undefined;
      let p;
      try {
        p = core.fromCpuProfile(json);
      } catch (e) {
        return refused(core, e);
      }
      invariant(
        core.validateCpuProfile(core.toCpuProfile(p)).length === 0,
        'toCpuProfile wrote an invalid .cpuprofile',
      );
    },
  },
  collapsed: {
    dictionary: [';', ' ', '\n', '1', '42', 'main', 'a;b;c 3\n', ';;', ' 0', '\r\n', '99999999999999999999'],
    check: (core) => (input) => {
      let p;
      try {
        p = core.fromCollapsed(input.toString('utf8'));
      } catch (e) {
        return refused(core, e);
      }
      const once = core.toCollapsed(p);
      invariant(core.toCollapsed(core.fromCollapsed(once)) === once, 'collapsed → profile → collapsed is not stable');
    },
  },
};
