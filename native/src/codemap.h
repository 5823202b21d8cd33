// A profile's code-event timeline: code events and samples, replayed in one sequence.
// V8's code events and the samples share one sequence counter, and replaying both in sequence
// order names each pc against the code map as it was when the sample was taken, not as it is at
// stop() (bytecode and code move under GC compaction, and addresses get reused). The repairs
// of V8's stacks are in stack_repair.cc.
#pragma once

#include <v8.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "builtins.h"
#include "code_ranges.h"
#include "line_tables.h"
#include "names.h"
#include "native_symbols.h"

namespace perfprofile {

/** Repairs of V8's stack samples; each can be switched off to prove its test fails without it. */
struct Fixes {
  bool leaf = true;  // add the executing frame from regs.pc (GetStackSample omits it)
  bool frameless =
      true;           // recover the interpreted/baseline function under a frameless leaf (kInterpreterFrame)
  bool remap = true;  // translate pcs in the remapped builtins copy
};

/** Counts of samples each fix changed (diagnostics and per-version tests). */
struct FixCounts {
  uint64_t leaf = 0;       // executing frame added from regs.pc
  uint64_t frameless = 0;  // interpreted frame recovered from the interpreter frame slots
  uint64_t remap = 0;      // pcs in the remapped builtins copy, translated to the executable's
};

/** Stacks with identical frames, VM state and truncation, folded. */
struct FoldedStack {
  uint64_t count = 0;
  std::vector<double> values;
};

class CodeMap {
 public:
  /**
   * Starts logging code events of `isolate` (enumerating existing code); when the isolate is
   * tracked, starts from the tracker's map of live code. JS thread only.
   */
  void Attach(v8::Isolate* isolate);
  void Detach();
  /**
   * A sample's position in the shared sequence (async-signal-safe: one lock-free atomic load).
   * Code events add kEventStep, so the position is the number of code events numbered before
   * it (the epoch, seq >> 32): two samples with equal epochs have no code event between them,
   * and an event numbered after the load gets a seq no lower than the sample's, so it is never
   * applied before naming it. A load, not an add: the handler takes no locked instruction,
   * which would wait for every store before it (docs/PERFORMANCE.md).
   */
  uint64_t SampleSeq() const { return seq_.load(std::memory_order_acquire); }
  static constexpr uint64_t kEventStep = uint64_t(1) << 32;
  static uint64_t Epoch(uint64_t seq) { return seq >> 32; }

  /** Called by V8, possibly from GC helper threads (CODE_MOVED): takes the log mutex. */
  void OnEvent(const v8::JitCodeEvent* event, const LineTablePtr& table);
  /** The isolate's bytecode positions, for naming positions of optimized code (AttachCodeMap). */
  void SetFunctionIndex(std::shared_ptr<FunctionIndex> index) { index_ = std::move(index); }
  /** Starts from a tracker's live code, whose names stay in `names` until a sample needs one (AttachCodeMap).
   */
  void Seed(const CodeRanges& live, std::shared_ptr<NameTable> names);

  /**
   * One raw sample (or `count` identical ones): leaf-first return addresses, already cut to
   * depth; `total` frames were reported.
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
  /** Replays code events up to the sample's seq, names its frames and folds it. Samples come in sequence
   * order. */
  void AddSample(const RawSample& s, const Fixes& fixes);
  /** Applies the remaining code events (end of profile). */
  void Finish();
  /**
   * Adds to *starts the start of every code entry this map has held or will hold as of the
   * events logged so far (seed, CODE_ADDED, CODE_MOVED targets): a superset of the entries
   * AddSample can find for a sample whose seq is below every event logged after this call.
   * *cursor is the caller's position in the log (0 at first). Any thread; takes the log mutex.
   */
  void CollectCodeStarts(std::unordered_set<uintptr_t>* starts, size_t* cursor);

  const std::vector<FrameInfo>& frames() const { return frames_.all(); }
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
    CodeEvent code;
  };

  // The timeline (codemap.cc).
  void ApplyUpTo(uint64_t seq);
  CodeHit Find(uintptr_t pc) const { return FindCode(code_, pc); }
  /** pc as the code map knows it: translated out of a remapped builtins copy when `fix_remap`. */
  uintptr_t Translated(uintptr_t pc, bool fix_remap) const {
    return fix_remap ? builtins_.Translate(pc) : pc;
  }
  /** Frame id of a CODE_ADDED just after the current point covering pc, or unknown. */
  uint32_t LookAhead(uintptr_t pc) const;
  /**
   * The frame id an entry's name stands for: seeded entries carry their name's id in the
   * tracker's NameTable (kSeedName set), interned here on first use.
   */
  uint32_t FrameOf(uint32_t name);
  static constexpr uint32_t kSeedName = uint32_t(1) << 31;
  /** The BYTE_CODE entry of a tagged BytecodeArray pointer (kInterpreterFrame), or nullptr. */
  const CodeEntry* BytecodeEntry(uintptr_t tagged) const;
  /** Frame id for a pc that is not in the code map: builtin, native symbol, or unknown. */
  uint32_t NameUnmapped(uintptr_t pc, bool fix_remap, bool* is_bytecode_handler);
  /** The frame id of the same function at another tier (`^` Sparkplug), if V8 named such code; else `id`. */
  uint32_t TierVariant(uint32_t id, char marker);
  void CountPcs(const RawSample& s, bool fix_remap);
  /** Folds stack_ (the sample's frame ids) into stacks_. */
  void Fold(const RawSample& s);

  // The repairs of V8's stack (stack_repair.cc): each appends frame ids to stack_, leaf first.
  void NameStack(const RawSample& s, const Fixes& fixes);
  struct Leaf {
    bool in_handler = false;  // a bytecode handler runs: the interpreted frame is fp's
    bool builtin = false;     // a builtin was added as the leaf (maybe frameless, under Sparkplug code)
  };
  Leaf AddLeaf(const RawSample& s, uintptr_t pc, const CodeHit& first, bool fix_remap);
  void RecoverFramelessCaller(const RawSample& s, const CodeHit& first, bool in_handler);
  void AddCaller(const RawSample& s, size_t i, const Fixes& fixes);
  uint32_t WithCode(uint32_t id, const CodeEntry& entry, uintptr_t offset);
  uint32_t EntryCheckOf(uintptr_t pc);
  uint32_t BytecodeOf(uintptr_t tagged);

  std::atomic<uint64_t> seq_{1};
  v8::Isolate* isolate_ = nullptr;
  size_t seeded_ = 0;
  std::shared_ptr<NameTable> seed_names_;  // the tracker's names, when seeded from one
  std::shared_ptr<FunctionIndex> index_;   // set by AttachCodeMap
  std::vector<uint32_t> seed_ids_;         // their frame ids here, UINT32_MAX until used
  std::mutex mu_;
  std::vector<Event> log_;  // guarded by mu_
  FrameTable frames_;       // guarded by mu_
  size_t applied_ = 0;
  size_t events_seen_ = 0;
  CodeRanges code_;  // the map as of log_[applied_]
  Builtins builtins_;
  NativeSymbols natives_;
  FixCounts fixed_;
  std::unordered_map<std::string, FoldedStack> stacks_;
  uint64_t unresolved_ = 0;
  uint64_t blob_pcs_ = 0, remap_pcs_ = 0;
  std::vector<uint32_t> stack_;  // the sample being named
  std::string key_;
};

}  // namespace perfprofile
