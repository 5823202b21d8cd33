// Frame kinds and names: the kinds (defined here only), a tracker's names, a profile's frames.
#pragma once

#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace perfprofile {

/**
 * What a frame is. The binding reports this number and exports kFrameKindNames as `frameKinds`
 * (index.d.ts: FrameKind), so the numbers are defined here only.
 */
enum FrameKind : uint8_t { kJs = 0, kBuiltin, kNative, kGc, kProgram, kIdle, kUnknown, kFrameKindCount };
constexpr const char* kFrameKindNames[kFrameKindCount] = {"js",      "builtin", "native", "gc",
                                                          "program", "idle",    "unknown"};

/**
 * Where in its code a JS frame is: the code object (its origin, the start it was added at, and
 * its size) and the offset to look the frame's position up at: the sampled pc's for the
 * executing frame, a return address's minus 1 for machine-code callers (the call, as V8's stack
 * iterator looks it up), the bytecode offset for interpreted frames.
 */
struct CodeAt {
  uintptr_t origin = 0;  // 0: no code (the frame names its function only)
  uintptr_t size = 0;
  uint32_t offset = 0;
  // From V8's line tables, without its code log (line_tables.h): the frame's own line at the
  // offset (0: not certain), and the innermost inlined function there, inferred (empty: none).
  int32_t line = 0;
  int32_t column = 0;
  std::string inlined;  // its bytecode code name, e.g. "JS:~mix file:///a.mjs:3:13"
  int32_t inlined_line = 0;
  int32_t inlined_column = 0;
};

/** A frame of a profile. JS names keep V8's tier marker (~ ^ + *). */
struct FrameInfo {
  std::string name;   // V8's code name, or "(builtin) X", "(native) sym", "(garbage collector)"...
  uint8_t kind;       // FrameKind
  uint32_t function;  // the id of (name, kind) without code: this frame's own id when it has none
  CodeAt code;
};

/** Frame ids every FrameTable starts with. */
constexpr uint32_t kIdUnknown = 0;
constexpr uint32_t kIdGc = 1;
constexpr uint32_t kIdProgram = 2;
constexpr uint32_t kIdIdle = 3;

/** The frames of one profile, each (name, kind) once; ids index all(). */
class FrameTable {
 public:
  FrameTable();
  /** The id of (name, kind), added if new. */
  uint32_t Intern(const std::string& name, uint8_t kind);
  /**
   * The id of frame `function` (an id from Intern) at `at` in its code, added if new: frames of
   * one function differ per code object and offset, so each sampled position folds apart.
   */
  uint32_t InternAt(uint32_t function, const CodeAt& at);
  /** The id InternAt gave (function, at), if any (`at`'s line fields aside). */
  bool FindAt(uint32_t function, const CodeAt& at, uint32_t* id) const;
  /** The id of (name, kind), if it was interned. */
  bool Find(const std::string& name, uint8_t kind, uint32_t* id) const;
  const FrameInfo& operator[](uint32_t id) const { return frames_[id]; }
  const std::vector<FrameInfo>& all() const { return frames_; }

 private:
  struct AtKey {
    uint32_t function;
    uint32_t offset;
    uintptr_t origin;
    uintptr_t size;
    bool operator==(const AtKey& o) const {
      return function == o.function && offset == o.offset && origin == o.origin && size == o.size;
    }
  };
  struct AtHash {
    size_t operator()(const AtKey& k) const {
      uint64_t h = k.origin * 0x9e3779b97f4a7c15ull ^ (uint64_t(k.function) << 32 | k.offset) ^
                   k.size * 0xc2b2ae3d27d4eb4full;
      return static_cast<size_t>(h ^ (h >> 29));
    }
  };
  std::vector<FrameInfo> frames_;
  std::unordered_map<std::string, uint32_t> ids_;  // key: the name, then the kind + 1
  std::unordered_map<AtKey, uint32_t, AtHash> at_ids_;
};

/**
 * The names of the code a CodeTracker has seen, append-only: an id, once given, names the same
 * string for the table's life. Shared with the code maps seeded from the tracker, which intern
 * a name only when a sample needs it. Its mutex is innermost: held alone, or under a tracker's
 * or a map's mutex, never around another lock.
 */
class NameTable {
 public:
  /** The id of `name`, added if new (kind is kept from its first addition). */
  uint32_t Add(std::string name, uint8_t kind);
  /** The name and kind of `id`; false for an id never given. */
  bool Get(uint32_t id, std::string* name, uint8_t* kind);
  /** The id of `name`, if the table has it. */
  bool Find(const std::string& name, uint32_t* id);

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, uint8_t>> names_;
  std::unordered_map<std::string, uint32_t> ids_;
};

inline bool StartsWith(const std::string& s, const char* prefix) {
  return s.compare(0, strlen(prefix), prefix) == 0;
}

/** The kind of code V8 names `name` in a CODE_ADDED event: bytecode and JS functions are js, the rest
 * builtin. */
uint8_t CodeKind(bool bytecode, const std::string& name);

/** "JS:*'fn url:1:2" → "fn url:1:2": the function a code name stands for, whatever its tier. */
std::string FunctionKeyOf(const std::string& code_name);

/** Whether two frame names are the same JS function (tier markers aside). */
bool SameFunction(const std::string& a, const std::string& b);

}  // namespace perfprofile
