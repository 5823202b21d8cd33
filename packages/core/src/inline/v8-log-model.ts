/**
 * What the V8 log parser keeps: per code object, per SharedFunctionInfo and per script, only
 * what naming a pc needs (no source text, no timestamps).
 */

/** Execution tier of a code object, from V8's marker (same names as the profile's `tier` label). */
export type CodeTier = 'ignition' | 'sparkplug' | 'maglev' | 'turbofan';

/** A function (SharedFunctionInfo) as of a code-source-info record. */
export interface LogFunction {
  /** The code-creation name field, still escaped: `<debug name> <script name>:<line>:<column>`. */
  readonly rawName: string;
  readonly scriptId: number;
  /** Script offset where V8 says the function starts (its parameter list). */
  readonly start: number;
  /** 1-based line and column V8 printed in the name (script line/column offsets included; 0 if absent). */
  readonly nameLine: number;
  readonly nameColumn: number;
}

/** One code object (bytecode or machine code) from a code-creation record with a function. */
export interface LogCode {
  readonly tag: string;
  /** V8's tier marker as logged: `~` `^` `+` `*`, possibly followed by `'`; empty when optimization is disabled. */
  readonly marker: string;
  readonly tier: CodeTier | undefined;
  readonly rawName: string;
  readonly size: number;
  /** Instruction start at creation, then after each code-move, in log order. */
  readonly addresses: number[];
  /** Its function's address when created (bound to `fn` by the code-source-info record). */
  readonly sfiAddress: number;
  fn?: LogFunction;
  /**
   * The code-source-info's position and inlining fields as logged, until the first lookup at
   * this code's address decodes them into `positions` and `inlining`: most code never runs
   * while a profile samples.
   */
  tables?: { readonly positions: string; readonly inlining: string };
  /** Triples (code offset, script offset, inlining id or -1), in log order (ascending offsets). */
  positions?: Int32Array;
  /** Triples (function index or -1, call-site script offset, parent inlining id or -1). */
  inlining?: Int32Array;
  /** The inlined functions by index; undefined where the log never described that address. */
  functions?: (LogFunction | undefined)[];
}

/** Stands for code the parser does not name (builtins, regexps...), so moves stay attributed. */
export const OTHER_CODE = Symbol('other code');
export type CodeSlot = LogCode | typeof OTHER_CODE;

/** A script offset's 0-based line and column. */
export interface ScriptPosition {
  readonly line: number;
  readonly column: number;
}

export interface LogScript {
  readonly id: number;
  /**
   * Script name as logged (escaped), to split function names; `<unknown>` for unnamed scripts.
   * Undefined for a script the log has no source for: its name came from the running process.
   */
  readonly rawName?: string;
  readonly name: string;
  /** Other names of it a function's logged name may use (its `//# sourceURL`). */
  readonly aliases?: readonly string[];
  /** Where a script offset lies, as V8 counts lines (see LineEndScanner); undefined past the end. */
  position(offset: number): ScriptPosition | undefined;
  /**
   * The script's line offset (and first-line column offset) as the functions' printed
   * line:column give them; every function must agree, or `inconsistent` is set and the script
   * names no frame. Preset to 0 where positions already include them.
   */
  lineOffset?: number;
  columnOffset?: number;
  inconsistent?: boolean;
}

/**
 * Lines of the running process's own scripts, for a log written without their sources
 * (`--no-log-source-code`): @perfprofile/native's `scriptLines`, by V8's script id. Lines and
 * columns 1-based with script offsets included (line 0: out of range); undefined for a script
 * it does not know (collected, or never in a code event since code was tracked).
 */
export interface ScriptLocator {
  lines(scriptId: number, offsets: Int32Array): { name: string; sourceUrl: string; lines: Int32Array } | undefined;
}

/** The code object as the native sampler sees it. */
export interface CodeRef {
  /** Instruction start when the sampler first saw it (creation address or a move target): number, bigint or `0x` hex. */
  readonly start: number | bigint | string;
  readonly size: number;
  /** V8's code name from JIT code events (`JS:*caller file:///a.mjs:26:23`), to tell apart code objects that shared an address. */
  readonly name?: string;
}

/** One function of an inline chain. Lines and columns are 1-based; column 0 means unknown. */
export interface InlineFrame {
  readonly name: string;
  /** Script name as V8 has it: a `file://` URL for ES modules, a path for CommonJS, `node:...` for Node's own. */
  readonly scriptUrl: string;
  /** Innermost frame: the sampled position's line; outer frames: the call site's line. */
  readonly line: number;
  readonly column: number;
  readonly functionStartLine: number;
}

/** What the parser has seen and kept (for diagnostics and the measurements in tests). */
export interface V8LogStats {
  bytes: number;
  lines: number;
  codeObjects: number;
  otherCode: number;
  moves: number;
  sfiMoves: number;
  scripts: number;
  /** Bytes of line-end tables kept, and of position and inlining tables decoded so far (at lookups). */
  tableBytes: number;
  /** A last line without its newline, dropped by end(). */
  droppedPartialLine: boolean;
}
