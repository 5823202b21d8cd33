// Builtins: named from the executable's ELF symbols, and found where V8 runs them from.
// The symbol table (`Builtins_<Name>` labels of the embedded blob) is read once per process;
// V8 also runs builtins from its embedded code range, and from the executable's text mapped a
// second time (/proc/self/maps).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "names.h"

namespace perfprofile {

/** The executable's builtins: read once per process, on first need. */
struct BuiltinTable {
  std::vector<uintptr_t> start, end;   // sorted by start
  std::vector<std::string> names;      // "(builtin) <Name>"
  uintptr_t blob_lo = 0, blob_hi = 0;  // the embedded blob in the executable
};
const BuiltinTable& ProcessBuiltins();

/** A second mapping of the executable's text: [lo, hi) maps to [to, to + hi - lo) in its addresses. */
struct TextRemap {
  uintptr_t lo, hi, to;
};
/** This process's second mappings of the executable's text (/proc/self/maps; not signal-safe). */
std::vector<TextRemap> ExecutableRemaps();

/** The builtins as one code map names them: frame ids interned on first use. */
class Builtins {
 public:
  /** V8's embedded code range for the isolate (it may run builtins from there instead of the blob). */
  void SetEmbeddedRange(uintptr_t lo, uintptr_t hi);
  bool loaded() const { return table_ != nullptr; }
  /** Takes the process's table and reads this process's second mappings of the executable. */
  void Load();
  /** A pc in a second mapping of the executable's text, as the executable's own address; others unchanged. */
  uintptr_t Translate(uintptr_t pc) const;
  bool InBlob(uintptr_t pc) const { return pc >= blob_lo_ && pc < blob_hi_; }
  /**
   * The frame id of the builtin at pc, also in V8's embedded code range when `fix_remap`; false
   * when no builtin holds pc. *bytecode_handler: whether it is one (the interpreter, running
   * the interpreted frame below it).
   */
  bool Name(uintptr_t pc, bool fix_remap, FrameTable* frames, uint32_t* id, bool* bytecode_handler);

 private:
  void LoadRemaps();

  const BuiltinTable* table_ = nullptr;
  std::vector<uint32_t> ids_;                    // frame ids of the table's names, UINT32_MAX until used
  uintptr_t blob_lo_ = 0, blob_hi_ = 0;          // the embedded blob in the executable
  uintptr_t embedded_lo_ = 0, embedded_hi_ = 0;  // V8's embedded code range, if not the blob
  std::vector<TextRemap> remaps_;                // the executable's text mapped a second time (builtins copy)
};

}  // namespace perfprofile
