// Line tables from V8's JIT code events, and the inference of inlined functions from them.
// CODE_ADD_LINE_POS_INFO maps a code offset to a script offset, without V8's inlining id: in
// optimized code the offset may lie in an inlined function's script. Bytecode tables give each
// function's own set of script offsets; a position of optimized code is named after the one
// function whose set holds it, or left to the physical function when that is not certain.
#pragma once

#include <v8.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace perfprofile {

/** One row of a code object's line table: code offset → script offset, and its 1-based line:column. */
struct LinePos {
  uint32_t pc;
  int32_t pos;
  int32_t line;    // in the script of the code's own function (0: unknown)
  int32_t column;  // 1-based (0: unknown)
};

/** A code object's line table, by code offset (bytecode offset for BYTE_CODE). Immutable once built. */
struct LineTable {
  std::vector<LinePos> rows;  // sorted by pc, then pos
  int script_id = -1;         // V8's id of the code's script (-1: unknown)
  /** The script offset at `offset`: the last row at or before it (as V8 looks positions up); nullptr if none.
   */
  const LinePos* At(uint32_t offset) const;
};
using LineTablePtr = std::shared_ptr<const LineTable>;

/**
 * Collects CODE_START/ADD/END_LINE_INFO_RECORDING events (V8 sends a code object's table just
 * before its CODE_ADDED, keyed at the end by the code's start) until CODE_ADDED claims them.
 * Unclaimed tables are bounded (the oldest go first).
 */
class LineRecorder {
 public:
  /** Handles a line-info event; false if `e` is not one. */
  static bool OnLineEvent(const v8::JitCodeEvent* e);
  /**
   * The table recorded for the code `e` adds, with lines and columns from its script, or null.
   * JS thread, inside V8's CODE_ADDED callback (line ends of the script are known by then: V8
   * computed the code name's line from them).
   */
  static LineTablePtr Claim(const v8::JitCodeEvent* e);
  /** Drops the isolate's unclaimed tables (its handler is being installed or removed). */
  static void Forget(v8::Isolate* isolate);
};

/** What optimized code at one offset says of its frame, as far as it is certain. */
struct Inference {
  int32_t line = 0;  // the physical function's own line at the offset (0: not certain)
  int32_t column = 0;
  std::string inlined;  // the innermost inlined function's bytecode code name, when certain
  int32_t inlined_line = 0;
  int32_t inlined_column = 0;
};

/**
 * Every function's bytecode positions (from its BYTE_CODE line table), by V8's function key
 * (`name url:line:col`), and which functions hold each script offset. One per isolate, shared by
 * its tracker and code maps; its memory grows with the distinct functions compiled while code
 * events were followed (a recompiled function replaces its entry).
 */
class FunctionIndex {
 public:
  /** Records a BYTE_CODE table of the function V8 names `code_name`. Any thread. */
  void AddBytecode(const std::string& code_name, const LineTablePtr& table);
  /**
   * What the optimized code `table` of the function named `code_name` says at `offset`: its own
   * line when the offset is the function's own and no other candidate plausibly holds it; the
   * innermost inlined function when exactly one function explains it best. Any thread.
   */
  Inference Infer(const std::string& code_name, const LineTablePtr& table, uint32_t offset);
  /** Bytecode tables held (diagnostics). */
  size_t functions();

 private:
  struct Function {
    std::string code_name;
    int script_id = -1;
    std::vector<LinePos> positions;  // by pos, distinct (pc unused)
    const LinePos* Find(int32_t pos) const;
  };
  // Per optimized table: each distinct position's verdict, computed once per table.
  struct Verdict {
    int32_t fn = -1;  // index into functions_: the physical function (own) or an inlinee
    bool own = false;
  };
  using Verdicts = std::unordered_map<int32_t, Verdict>;
  Verdicts Judge(const std::string& key, const LineTable& table);

  std::mutex mu_;
  std::vector<Function> functions_;
  std::unordered_map<std::string, int32_t> by_key_;
  std::unordered_map<int32_t, std::vector<int32_t>> by_pos_;  // script offset → functions holding it
  // The verdicts of the optimized tables looked up lately; cleared when it grows past a bound.
  std::unordered_map<const LineTable*, std::pair<LineTablePtr, Verdicts>> verdicts_;
};

}  // namespace perfprofile
