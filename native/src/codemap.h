// Code-map timeline: V8's code events (added / moved / removed, bytecode and machine code) and
// the samples share one sequence counter. Replaying both in sequence order names each pc
// against the map as it was when the sample was taken, not as it is at stop() — bytecode and
// code move under GC compaction, and addresses get reused.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <v8.h>

namespace perfprofile {

/** What a frame id names. JS names keep V8's tier marker (~ ^ + *). */
struct FrameInfo {
  std::string name;   // V8's code name, or "(builtin) X", "(native) sym", "(garbage collector)"...
  uint8_t kind;       // FrameKind below
};

enum FrameKind : uint8_t { kJs = 0, kBuiltin, kNative, kGc, kProgram, kIdle, kUnknown, kTruncated };

/** Stacks with identical frames, VM state and truncation, folded. */
struct FoldedStack {
  uint64_t count = 0;
  std::vector<double> values;
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

/** The executable's builtins (codemap.cc): read once per process, on first need. */
struct BuiltinTable;
const BuiltinTable& ProcessBuiltins();

/** The JIT code event handler behind CodeMap and CodeTracker (internal). */
void DispatchJitCodeEvent(const v8::JitCodeEvent* event);

/**
 * The code of one isolate as it is now, kept from Track() until the isolate goes away, so that a
 * sampler started later can name code compiled before it. Needed since V8 12: there
 * kJitCodeEventEnumExisting reports bytecode and baseline code but not optimized (Maglev,
 * TurboFan, OSR) code that already exists — measured on Node 22 and 24, a sampler started after
 * a benchmark's warm-up lost its hottest leaf frames. On V8 11.3 enumeration covers it; tracking
 * is harmless there. Costs one code event per compilation and per code move while tracked.
 */
class CodeTracker {
 public:
  /** Starts tracking the isolate (JS thread; idempotent): enumerates existing code, then follows events. */
  static void Track(v8::Isolate* isolate);
  /** Stops tracking it (the isolate's environment is being torn down). JS thread. */
  static void Untrack(v8::Isolate* isolate);
  static bool Tracking(v8::Isolate* isolate);

  struct Code {
    uintptr_t len;
    uint32_t name;  // id in names_
    uint8_t code_type;
  };

 private:
  friend class CodeMap;
  friend void DispatchJitCodeEvent(const v8::JitCodeEvent* event);
  void Apply(const v8::JitCodeEvent* e);  // under mu_

  std::mutex mu_;  // held while an event is applied here and logged by an attached CodeMap
  std::map<uintptr_t, Code> live_;
  std::shared_ptr<NameTable> names_ = std::make_shared<NameTable>();
};

/** Counts of samples each fix changed (diagnostics and per-version tests). */
struct FixCounts {
  uint64_t leaf = 0;       // executing frame added from regs.pc
  uint64_t frameless = 0;  // interpreted frame recovered from the interpreter frame slots
  uint64_t remap = 0;      // pcs in the remapped builtins copy, translated to the executable's
};

class CodeMap {
 public:
  CodeMap();
  /**
   * Starts logging code events of `isolate` (enumerating existing code); when the isolate is
   * tracked, starts from the tracker's map of live code. JS thread only.
   */
  void Attach(v8::Isolate* isolate);
  void Detach();
  /**
   * Next position in the shared sequence for a sample (async-signal-safe). Samples add 1, code
   * events add kEventStep, so one atomic add gives both the order and the number of code events
   * numbered before it (the epoch, seq >> 32): two samples with equal epochs have no code event
   * between them. Over 2^32 samples the low half carries into the epoch, which only makes the
   * epochs of later samples differ from earlier ones (fewer merges), never equal wrongly.
   */
  uint64_t NextSeq() { return seq_.fetch_add(1, std::memory_order_acq_rel); }
  static constexpr uint64_t kEventStep = uint64_t(1) << 32;
  static uint64_t Epoch(uint64_t seq) { return seq >> 32; }

  /** Called by V8, possibly from GC helper threads (CODE_MOVED): takes the log mutex. */
  void OnEvent(const v8::JitCodeEvent* event);

  /**
   * Replays code events up to `seq` and adds one sample: leaf-first raw frames, already cut
   * to depth; `truncated` frames were cut off. Samples must come in sequence order.
   */
  struct RawSample {
    uint64_t seq;
    uint64_t count = 1;  // identical samples merged into this one (values are their sums)
    int vm_state;
    uintptr_t pc;
    uintptr_t external;
    uintptr_t bytecode;
    uintptr_t bc_offset;
    uintptr_t owner_bytecode;  // BytecodeArray slot of the frame V8 reported as frames[0], or 0
    uint64_t total;
    const uint64_t* frames;
    size_t nframes;
    const uint64_t* values;
    size_t nvalues;
    uint32_t depth;
  };
  void AddSample(const RawSample& s, bool fix_leaf, bool fix_frameless, bool fix_remap);
  /** Applies the remaining code events (end of profile). */
  void Finish();
  /**
   * Adds to *starts the start of every code entry this map has held or will hold as of the
   * events logged so far (seed, CODE_ADDED, CODE_MOVED targets): a superset of the entries
   * AddSample can find for a sample whose seq is below every event logged after this call.
   * *cursor is the caller's position in the log (0 at first). Any thread; takes the log mutex.
   */
  void CollectCodeStarts(std::unordered_set<uintptr_t>* starts, size_t* cursor);

  const std::vector<FrameInfo>& frames() const { return frames_; }
  /** Key: [vm_state, truncated, frame ids leaf first...]. */
  const std::unordered_map<std::string, FoldedStack>& stacks() const { return stacks_; }
  uint64_t unresolved() const { return unresolved_; }
  /** Pcs found in the executable's embedded blob / in V8's remapped copy of it (diagnostics). */
  uint64_t blob_pcs() const { return blob_pcs_; }
  uint64_t remap_pcs() const { return remap_pcs_; }
  size_t code_events() const { return events_seen_; }
  /** Live code entries taken from a CodeTracker at Attach (0 when untracked). */
  size_t seeded() const { return seeded_; }
  const FixCounts& fixed() const { return fixed_; }

 private:
  struct Event {
    uint64_t seq;
    uint8_t type;       // JitCodeEvent::EventType
    uint8_t code_type;  // JitCodeEvent::CodeType
    uintptr_t start;
    uintptr_t len_or_new;
    uint32_t info;      // frame id (CODE_ADDED)
  };
  struct Entry {
    uintptr_t len;
    uint32_t info;
    uint8_t code_type;
  };

  uint32_t Intern(const std::string& name, uint8_t kind);
  /**
   * The frame id an entry's `info` stands for: seeded entries carry their name's id in the
   * tracker's NameTable (kSeedName set), interned here on first use.
   */
  uint32_t FrameOf(uint32_t info);
  static constexpr uint32_t kSeedName = uint32_t(1) << 31;
  void ApplyUpTo(uint64_t seq);
  /** Frame id of a CODE_ADDED just after the current point covering pc, or unknown. */
  uint32_t LookAhead(uintptr_t pc) const;
  /** Frame id of the BYTE_CODE entry of a tagged BytecodeArray pointer (kInterpreterFrame), or unknown. */
  uint32_t BytecodeOf(uintptr_t tagged);
  /** Entry containing pc, or nullptr. */
  const Entry* Find(uintptr_t pc, uintptr_t* start) const;
  /** Frame id for a pc that is not in the code map: builtin, native symbol, or unknown. */
  uint32_t NameUnmapped(uintptr_t pc, bool fix_remap, bool* is_bytecode_handler);
  void LoadBuiltins();
  void LoadRemaps();
  /** Whether two frame names are the same JS function (tier markers aside). */
  bool SameFunction(const std::string& a, const std::string& b) const;
  /** The frame id of the same function at another tier (`^` Sparkplug), if V8 named such code; else `id`. */
  uint32_t TierVariant(uint32_t id, char marker);

  friend void DispatchJitCodeEvent(const v8::JitCodeEvent* event);
  void Seed(CodeTracker* tracker);  // with tracker->mu_ held

  std::atomic<uint64_t> seq_{1};
  size_t seeded_ = 0;
  std::shared_ptr<NameTable> seed_names_;  // the tracker's names, when seeded from one
  std::vector<uint32_t> seed_ids_;         // their frame ids here, UINT32_MAX until used
  FixCounts fixed_;
  std::mutex mu_;
  std::vector<Event> log_;  // guarded by mu_
  std::unordered_map<std::string, uint32_t> interned_;  // guarded by mu_
  std::vector<FrameInfo> frames_;                        // guarded by mu_
  size_t applied_ = 0;
  size_t events_seen_ = 0;
  std::map<uintptr_t, Entry> map_;
  std::unordered_map<std::string, FoldedStack> stacks_;
  uint64_t unresolved_ = 0;
  uint64_t blob_pcs_ = 0, remap_pcs_ = 0;
  v8::Isolate* isolate_ = nullptr;

  // Builtins, named from the executable's symbol table, and where V8 runs them from.
  bool builtins_loaded_ = false;
  const BuiltinTable* builtins_ = nullptr;  // the process's, loaded once (codemap.cc)
  std::vector<uint32_t> builtin_ids_;                // frame ids of its names, UINT32_MAX until used
  uintptr_t blob_lo_ = 0, blob_hi_ = 0;          // the embedded blob in the executable
  uintptr_t remap_lo_ = 0, remap_hi_ = 0;        // V8's embedded code range, if not the blob
  struct Remap {
    uintptr_t lo, hi, to;  // [lo, hi) maps to [to, to + hi - lo) in the executable's addresses
  };
  std::vector<Remap> remaps_;  // the executable's text mapped a second time (builtins copy)
  uintptr_t Translate(uintptr_t pc) const;
  std::unordered_map<uintptr_t, uint32_t> native_names_;
  std::vector<uint32_t> scratch_;
  std::string key_;
};

}  // namespace perfprofile
