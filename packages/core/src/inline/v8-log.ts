/**
 * Incremental parser of V8's code log (`node --log-code --log-source-position`), kept to what
 * names a sampled pc with its exact inline chain: code objects with their address history,
 * position and inlining tables, the functions they inline, and script line ends (from the log's
 * script sources, or, for a log written without them, from the running process: ScriptLocator).
 *
 * Feed it the file as it grows; a partial last line waits for the next feed. A record of a type
 * it knows, in a shape it does not, makes it `unsupported` (one reason) and it stops: callers
 * fall back to function-level frames rather than risk a wrong name.
 */
import { inlineChain } from './v8-log-query.js';
import {
  OTHER_CODE,
  type CodeRef,
  type CodeSlot,
  type CodeTier,
  type InlineFrame,
  type LogCode,
  type LogFunction,
  type LogScript,
  type ScriptLocator,
  type ScriptPosition,
  type V8LogStats,
} from './v8-log-model.js';
import { LineEndScanner, lineColumnAt, LogFormatError, unescapeString } from './v8-log-text.js';

export type V8LogStatus = { readonly supported: true } | { readonly supported: false; readonly reason: string };

const TIERS: Record<string, CodeTier> = {
  '~': 'ignition',
  '': 'ignition',
  '^': 'sparkplug',
  '+': 'maglev',
  '*': 'turbofan',
};
const ADDRESS = /^0x[0-9a-f]{1,13}$/;
const INT = /^-?\d{1,10}$/;
const MARKER = /^[~^+*]?'?$/;
// Vitest compiles modules with a negative first-line column offset.
const NAME_POSITION = /:(-?\d+):(-?\d+)$/;
/** code-source-info's positions (`C<code offset>O<script offset>[I<inlining id>]`...) and inlining (`F[<fn>]O<offset>[I<parent>]`...). */
const POSITIONS = /^(?:C\d{1,9}O-?\d{1,9}(?:I\d{1,9})?)*$/;
const INLINING = /^(?:F(?:-?\d{1,9})?O-?\d{1,9}(?:I\d{1,9})?)*$/;
// Whole well-formed records in one match each, at a line start in a chunk, up to its newline:
// the parse runs once per worker, before V8 has compiled it, where every JS step per line
// counts. A line they do not match takes the field-by-field path, which says what is wrong.
/** Builtins, stubs, handlers, regexps: 7 fields, only the address matters. */
const OTHER_CREATION = /code-creation,[^,\n]*,-?\d{1,10},-?\d{1,10},0x([0-9a-f]{1,13}),-?\d{1,10},[^,\n]*(?=\n)/y;
/** A function's code: its raw name (commas and all) between the size and the last two fields. */
const JS_CREATION =
  /code-creation,([^,\n]*),-?\d{1,10},-?\d{1,10},0x([0-9a-f]{1,13}),(-?\d{1,10}),([^\n]*),0x([0-9a-f]{1,13}),([~^+*]?'?)(?=\n)/y;
const SOURCE_INFO =
  /code-source-info,0x([0-9a-f]{1,13}),(-?\d{1,10}),(-?\d{1,10}),-?\d{1,10},((?:C\d{1,9}O-?\d{1,9}(?:I\d{1,9})?)*),((?:F(?:-?\d{1,9})?O-?\d{1,9}(?:I\d{1,9})?)*),((?:S0x[0-9a-f]{1,13})*)(?=\n)/y;

interface OpenSource {
  readonly id: number;
  readonly rawName: string;
  readonly scanner: LineEndScanner;
}

export class V8LogParser {
  private reason: string | undefined;
  private partial = '';
  private source: OpenSource | undefined;
  private sawHeader = false;
  private v8Version = '';
  /** Every address a code object was created at or moved to → those code objects, oldest first. */
  private readonly byAddress = new Map<number, LogCode[]>();
  /** What sits at each address now (the target of the next code-move from there). */
  private readonly current = new Map<number, CodeSlot>();
  private readonly functionsAt = new Map<number, LogFunction>();
  private readonly scripts = new Map<number, LogScript>();
  /** Script ids the locator did not know when asked. */
  private readonly unlocated = new Set<number>();
  private readonly counts: V8LogStats = {
    bytes: 0,
    lines: 0,
    codeObjects: 0,
    otherCode: 0,
    moves: 0,
    sfiMoves: 0,
    scripts: 0,
    tableBytes: 0,
    droppedPartialLine: false,
  };

  /** `locator` answers for scripts the log has no source for. */
  constructor(private readonly locator?: ScriptLocator) {}

  /** Parses the next piece of the log (any split, even inside a line or an escape). */
  feed(chunk: string | Uint8Array): void {
    if (this.reason !== undefined) return;
    const text =
      typeof chunk === 'string'
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    this.counts.bytes += text.length;
    try {
      this.consume(text);
    } catch (e) {
      if (!(e instanceof LogFormatError)) throw e;
      this.fail(e.message);
    }
  }

  /** The log is complete: a last line without its newline was cut short and is dropped. */
  end(): void {
    if (this.partial || this.source) this.counts.droppedPartialLine = true;
    this.partial = '';
    this.source = undefined;
  }

  get status(): V8LogStatus {
    return this.reason === undefined ? { supported: true } : { supported: false, reason: this.reason };
  }

  /** V8's version from the log header (`11.3.244.8`), once seen. */
  get version(): string {
    return this.v8Version;
  }

  get stats(): Readonly<V8LogStats> {
    return { ...this.counts };
  }

  /**
   * The code objects ever at `address` (created there or moved there), oldest first, their
   * tables decoded. A table in a shape we do not know makes the whole log unsupported (`status`
   * says why from then on) and this answers nothing.
   */
  codesAt(address: number): readonly LogCode[] {
    const codes = this.byAddress.get(address) ?? [];
    if (this.reason !== undefined) return [];
    try {
      for (const code of codes) if (code.tables) this.decodeTables(code);
    } catch (e) {
      if (!(e instanceof LogFormatError)) throw e;
      this.fail(e.message);
      return [];
    }
    return codes;
  }

  script(id: number): LogScript | undefined {
    const known = this.scripts.get(id);
    if (known || !this.locator || this.unlocated.has(id)) return known;
    const first = this.locator.lines(id, new Int32Array(0));
    if (!first) {
      this.unlocated.add(id);
      return undefined;
    }
    const script = new LocatedScript(id, first.name, first.sourceUrl, this.locator);
    this.scripts.set(id, script);
    this.counts.scripts++;
    return script;
  }

  /**
   * The inline chain at `pcOffset` in the code object `code`, innermost function first. For the
   * sampled pc pass its offset as is; for a return address pass `offset - 1` (the call, as V8's
   * stack iterator looks it up). Bytecode answers with its one function (pcOffset = bytecode
   * offset); Sparkplug code has no positions in the log, so it and anything unknown, ambiguous
   * (several code objects fit `code` and disagree here) or inconsistent give undefined.
   */
  inlineChain(code: CodeRef, pcOffset: number): InlineFrame[] | undefined {
    if (this.reason !== undefined) return undefined;
    return inlineChain(this, code, pcOffset);
  }

  private fail(reason: string): void {
    this.reason ??= `V8 log: ${reason}`;
    this.partial = '';
    this.source = undefined;
  }

  private consume(text: string): void {
    let i = 0;
    while (i < text.length && this.reason === undefined) {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      if (this.source) {
        // Inside a script source: scanned as it comes, never held whole.
        this.source.scanner.push(text.slice(i, end));
        if (nl < 0) return;
        this.closeSource();
      } else if (nl < 0) {
        this.partial += text.slice(i);
        if (this.partial.startsWith('script-source,')) this.openSource();
        return;
      } else if (!this.partial && this.sawHeader && this.fastRecord(text, i)) {
        this.counts.lines++;
      } else {
        const line = this.partial ? this.partial + text.slice(i, nl) : text.slice(i, nl);
        this.partial = '';
        if (line.startsWith('script-source,')) {
          this.partial = line;
          this.openSource();
          if (!this.source) throw new LogFormatError('script-source: fewer than 4 fields');
          this.closeSource();
        } else {
          this.record(line);
        }
      }
      i = nl + 1;
    }
  }

  /** Starts scanning a script-source record once its id and name are in `partial`. */
  private openSource(): void {
    const a = this.partial.indexOf(',');
    const b = this.partial.indexOf(',', a + 1);
    const c = b < 0 ? -1 : this.partial.indexOf(',', b + 1);
    if (c < 0) return;
    if (!this.sawHeader) throw new LogFormatError('does not start with a v8-version record');
    const id = this.partial.slice(a + 1, b);
    if (!INT.test(id)) throw new LogFormatError(`script-source: bad script id ${JSON.stringify(id)}`);
    this.counts.lines++;
    this.source = { id: Number(id), rawName: this.partial.slice(b + 1, c), scanner: new LineEndScanner() };
    this.source.scanner.push(this.partial.slice(c + 1));
    this.partial = '';
  }

  private closeSource(): void {
    const s = this.source!;
    this.source = undefined;
    const lineEnds = s.scanner.finish();
    this.scripts.set(s.id, {
      id: s.id,
      rawName: s.rawName,
      name: unescapeString(s.rawName),
      position: (offset) => lineColumnAt(lineEnds, offset),
    });
    this.counts.scripts++;
    this.counts.tableBytes += lineEnds.byteLength;
  }

  private record(line: string): void {
    this.counts.lines++;
    if (!this.sawHeader) {
      if (!line.startsWith('v8-version,'))
        throw new LogFormatError(`does not start with a v8-version record: ${JSON.stringify(line.slice(0, 40))}`);
      this.sawHeader = true;
      const f = line.split(',');
      this.v8Version = f.slice(1, 5).join('.');
      return;
    }
    const comma = line.indexOf(',');
    const type = comma < 0 ? line : line.slice(0, comma);
    switch (type) {
      case 'code-creation':
        return this.codeCreation(line);
      case 'code-move':
        return this.move(line.split(','), true);
      case 'sfi-move':
        return this.move(line.split(','), false);
      case 'code-source-info':
        return this.sourceInfo(line.split(','));
      default: // Records naming does not need (ticks, heap, deopts...) and unknown ones.
    }
  }

  /** The record at `at` if it is a well-formed code record (fast path); false to parse it field by field. */
  private fastRecord(text: string, at: number): boolean {
    if (text.charCodeAt(at) !== 99 || !text.startsWith('code-', at)) return false;
    let m: RegExpExecArray | null;
    switch (text.charCodeAt(at + 5)) {
      case 99: // code-creation
        OTHER_CREATION.lastIndex = at;
        if ((m = OTHER_CREATION.exec(text))) {
          this.current.set(parseInt(m[1], 16), OTHER_CODE);
          this.counts.otherCode++;
          return true;
        }
        JS_CREATION.lastIndex = at;
        if (!(m = JS_CREATION.exec(text))) return false;
        this.addCode(m[1], m[4], m[6], Number(m[3]), parseInt(m[2], 16), parseInt(m[5], 16));
        return true;
      case 115: // code-source-info
        SOURCE_INFO.lastIndex = at;
        if (!(m = SOURCE_INFO.exec(text))) return false;
        this.addSourceInfo(m[1], Number(m[2]), Number(m[3]), m[4], m[5], parseFunctions(m[6]));
        return true;
      default:
        return false;
    }
  }

  private codeCreation(line: string): void {
    // code-creation,<tag>,<kind>,<time>,<address>,<size>,<name>[,<function address>,<marker>]
    // Most are builtins (7 fields): only their address matters, so fields are cut by hand. A
    // function's debug name is written raw (unescaped), so its commas count from both ends.
    const commas: number[] = [];
    for (let at = line.indexOf(','); at >= 0; at = line.indexOf(',', at + 1)) commas.push(at);
    if (commas.length < 6 || commas.length === 7)
      throw new LogFormatError(`code-creation: ${commas.length + 1} fields`);
    const n = commas.length;
    const field = (k: number): string => line.slice(commas[k - 1] + 1, k < n ? commas[k] : line.length);
    const size = field(5);
    if (!INT.test(field(2)) || !INT.test(field(3)) || !INT.test(size))
      throw new LogFormatError(`code-creation: bad kind/time/size in ${JSON.stringify(line.slice(0, commas[5]))}`);
    const address = hex(field(4), 'code-creation');
    if (n === 6) {
      this.current.set(address, OTHER_CODE);
      this.counts.otherCode++;
      return;
    }
    const marker = field(n);
    if (!MARKER.test(marker)) throw new LogFormatError(`code-creation: unknown tier marker ${JSON.stringify(marker)}`);
    const sfiAddress = hex(field(n - 1), 'code-creation');
    this.addCode(field(1), line.slice(commas[5] + 1, commas[n - 2]), marker, Number(size), address, sfiAddress);
  }

  private addCode(
    tag: string,
    rawName: string,
    marker: string,
    size: number,
    address: number,
    sfiAddress: number,
  ): void {
    const tier = TIERS[marker.length > 0 && marker.charCodeAt(marker.length - 1) === 39 ? marker.slice(0, -1) : marker];
    const code: LogCode = { tag, marker, tier, rawName, size, addresses: [address], sfiAddress };
    this.current.set(address, code);
    this.at(address).push(code);
    this.counts.codeObjects++;
  }

  private move(f: string[], isCode: boolean): void {
    if (f.length !== 3) throw new LogFormatError(`${f[0]}: ${f.length} fields`);
    const from = hex(f[1], f[0]);
    const to = hex(f[2], f[0]);
    if (!isCode) {
      this.counts.sfiMoves++;
      const fn = this.functionsAt.get(from);
      if (fn === undefined) return;
      this.functionsAt.delete(from);
      this.functionsAt.set(to, fn);
      return;
    }
    this.counts.moves++;
    const slot = this.current.get(from);
    if (slot === undefined) return;
    this.current.delete(from);
    this.current.set(to, slot);
    if (slot === OTHER_CODE) return;
    slot.addresses.push(to);
    this.at(to).push(slot);
  }

  private sourceInfo(f: string[]): void {
    // code-source-info,<address>,<script>,<start>,<end>,<positions>,<inlining>,<functions>
    if (f.length !== 8) throw new LogFormatError(`code-source-info: ${f.length} fields`);
    hex(f[1], 'code-source-info');
    if (!INT.test(f[2]) || !INT.test(f[3]) || !INT.test(f[4]))
      throw new LogFormatError('code-source-info: bad script/start/end');
    // Their shape now (a regular expression is cheap next to decoding), their sense at decoding.
    if (!POSITIONS.test(f[5])) throw new LogFormatError(`code-source-info: bad positions for ${f[1]}`);
    if (!INLINING.test(f[6])) throw new LogFormatError(`code-source-info: bad inlining for ${f[1]}`);
    this.addSourceInfo(f[1].slice(2), Number(f[2]), Number(f[3]), f[5], f[6], parseFunctions(f[7]));
  }

  /** A well-formed code-source-info: `address` in hex without 0x, `functions` the inlined ones' addresses. */
  private addSourceInfo(
    address: string,
    scriptId: number,
    start: number,
    positions: string,
    inlining: string,
    functions: readonly number[],
  ): void {
    const code = this.current.get(parseInt(address, 16));
    // Source info always follows its code-creation; one that does not is a log we misread.
    if (code === undefined || code === OTHER_CODE)
      throw new LogFormatError(`code-source-info for 0x${address} without a code-creation`);
    if (code.fn) throw new LogFormatError(`second code-source-info for 0x${address}`);
    code.fn = this.bindFunction(code, scriptId, start);
    // The functions now, while their addresses mean them; the tables when a lookup needs them.
    code.functions = functions.map((a) => this.functionsAt.get(a));
    code.tables = { positions, inlining };
  }

  private decodeTables(code: LogCode): void {
    const { positions: p, inlining: q } = code.tables!;
    code.tables = undefined;
    const where = `code-source-info for 0x${code.addresses[0].toString(16)}`;
    const positions = parseTriples(p, 'C', 'O', 'I', 'positions');
    const inlining = parseTriples(q, 'F', 'O', 'I', 'inlining');
    for (let i = 2; i < positions.length; i += 3) {
      // Lookups bisect by code offset, as V8 reads these tables.
      if (i > 2 && positions[i - 2] < positions[i - 5])
        throw new LogFormatError(`${where}: code offsets not ascending`);
      if (positions[i] >= inlining.length / 3)
        throw new LogFormatError(`${where}: inlining id ${positions[i]} out of range`);
    }
    for (let i = 0; i < inlining.length; i += 3) {
      if (inlining[i] >= code.functions!.length || inlining[i + 2] >= inlining.length / 3)
        throw new LogFormatError(`${where}: inlining entry out of range`);
    }
    code.positions = positions;
    code.inlining = inlining;
    this.counts.tableBytes += positions.byteLength + inlining.byteLength;
  }

  /** The function of `code`, now known to live at its code-creation's function address. */
  private bindFunction(code: LogCode, scriptId: number, start: number): LogFunction {
    const m = NAME_POSITION.exec(code.rawName);
    const known = this.functionsAt.get(code.sfiAddress);
    if (known && known.rawName === code.rawName && known.scriptId === scriptId && known.start === start) return known;
    const fn: LogFunction = {
      rawName: code.rawName,
      scriptId,
      start,
      nameLine: m ? Number(m[1]) : 0,
      nameColumn: m ? Number(m[2]) : 0,
    };
    // A different function at that address means the old one died and the address was reused.
    this.functionsAt.set(code.sfiAddress, fn);
    return fn;
  }

  private at(address: number): LogCode[] {
    let list = this.byAddress.get(address);
    if (!list) this.byAddress.set(address, (list = []));
    return list;
  }
}

function hex(field: string, record: string): number {
  if (!ADDRESS.test(field)) throw new LogFormatError(`${record}: bad address ${JSON.stringify(field)}`);
  return parseInt(field.slice(2), 16);
}

/**
 * `C<n>O<n>[I<n>]...` (positions) or `F[<n>]O<n>[I<n>]...` (inlining) → triples with -1 for an
 * absent number. Script offsets may be -1 (no position).
 */
function parseTriples(field: string, first: string, second: string, third: string, what: string): Int32Array {
  const out: number[] = [];
  let i = 0;
  const bad = (): never => {
    throw new LogFormatError(`code-source-info: bad ${what} near ${JSON.stringify(field.slice(i, i + 12))}`);
  };
  const number = (optional: boolean): number => {
    const start = i;
    if (field[i] === '-') i++;
    const digits = i;
    while (i < field.length && field.charCodeAt(i) >= 48 && field.charCodeAt(i) <= 57) i++;
    if (i === start && optional) return -1;
    if (i === digits || i - digits > 9) bad();
    return Number(field.slice(start, i));
  };
  while (i < field.length) {
    if (field[i++] !== first) bad();
    const a = number(first === 'F');
    if (field[i++] !== second) bad();
    const b = number(false);
    let c = -1;
    if (field[i] === third) {
      i++;
      c = number(false);
      if (c < 0) bad();
    }
    if (first === 'C' && a < 0) bad();
    out.push(a, b, c);
  }
  return Int32Array.from(out);
}

/** `S0x<hex>S0x<hex>...` → addresses. */
function parseFunctions(field: string): number[] {
  if (field === '') return [];
  if (!field.startsWith('S'))
    throw new LogFormatError(`code-source-info: bad functions ${JSON.stringify(field.slice(0, 20))}`);
  return field
    .slice(1)
    .split('S')
    .map((a) => hex(a, 'code-source-info functions'));
}

/**
 * A script of the running process, its positions asked of the locator (and kept): lines and
 * columns already include the script's offsets.
 */
class LocatedScript implements LogScript {
  readonly name: string;
  readonly aliases: readonly string[];
  lineOffset = 0;
  columnOffset = 0;
  inconsistent?: boolean;
  private readonly positions = new Map<number, ScriptPosition | undefined>();

  constructor(
    readonly id: number,
    name: string,
    sourceUrl: string,
    private readonly locator: ScriptLocator,
  ) {
    this.name = name || sourceUrl;
    this.aliases = sourceUrl && sourceUrl !== this.name ? [sourceUrl] : [];
  }

  position(offset: number): ScriptPosition | undefined {
    if (this.positions.has(offset)) return this.positions.get(offset);
    const lines = this.locator.lines(this.id, Int32Array.of(offset))?.lines;
    const at = lines && lines[0] > 0 ? { line: lines[0] - 1, column: lines[1] - 1 } : undefined;
    this.positions.set(offset, at);
    return at;
  }
}
