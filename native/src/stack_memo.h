// V8's stack walk, memoized per sample shape. Isolate::GetStackSample costs the sampled thread
// ~1 µs of a thread-cputime sample's ~6 (docs/PERFORMANCE.md), and a benchmark samples the
// same few stacks over and over. The memo keys a sample by everything V8's walk decides from,
// read from the interrupted frames: the frame-pointer chain (each frame's address, return
// address, and type marker or JavaScript context/function tags) and where the pc is (JIT code,
// or which instruction of a builtin). For a key it has seen, it replays V8's answer as a recipe
// of places in the chain, re-reading what changes between samples of one shape: interpreted
// frames' bytecode offsets, with V8's own validity rule. A key it has not seen, or a sample
// outside JavaScript, goes to V8 as before; the answer is learned only if every frame maps to
// a place in the chain.
//
// Everything here after Arm() runs in the signal handler (signal_handler.cc's rules): no
// allocation, no lock, reads of the stack only within this thread's bounds through StackWord,
// and state touched by this thread's handler only.
#pragma once

#include <v8.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "signal_handler.h"

namespace perfprofile {

enum class MemoMode : uint8_t {
  kOff,    // every sample walks with V8
  kOn,     // replays learned answers
  kCheck,  // replays, and also walks with V8 to compare (tests): V8's answer is kept
};

/** Samples by how the memo served them (diagnostics, and the check mode's verdict). */
struct MemoCounts {
  uint64_t hits = 0;        // replayed
  uint64_t learned = 0;     // walked by V8, answer remembered
  uint64_t unmapped = 0;    // walked by V8, answer not expressible from the chain (or too long)
  uint64_t bypassed = 0;    // walked by V8: pc outside JS code, frame being built, chain too long
  uint64_t mismatches = 0;  // check mode: a replay that differed from V8's answer
  // Check mode: a replay in a fast API call's window (Compare), V8's extra frame aside.
  uint64_t fast_call = 0;
  // The first mismatch: frame index (or -1: the counts or VM state differ) and both values.
  int64_t mismatch_frame = 0;
  uint64_t mismatch_ours = 0, mismatch_v8 = 0;
};

class StackMemo {
 public:
  /** Frame records read per sample; a longer chain (deep recursion) is walked by V8. */
  static constexpr size_t kMaxChain = 256;
  /** Learned stacks kept (direct-mapped by key), and the most frames one may have. */
  static constexpr size_t kEntries = 256;
  static constexpr size_t kMaxSteps = 128;

  explicit StackMemo(MemoMode mode);
  /** JS thread, before the trigger is armed: where this isolate's code runs, and the stack. */
  void Arm(v8::Isolate* isolate, uintptr_t stack_lo, uintptr_t stack_hi);
  MemoMode mode() const { return mode_; }
  MemoCounts counts() const;

  // ---- Signal handler only ----
  /**
   * Reads the interrupted frames into this sample's key; false when the sample cannot use
   * the memo (V8 walks it, and Learn ignores it).
   */
  bool Prepare(uintptr_t pc, uintptr_t sp, uintptr_t fp);
  /** After a true Prepare: the answer learned for this key into frames/info; false if none. */
  bool Replay(void** frames, size_t cap, v8::SampleInfo* info);
  /** After Prepare and V8's walk: remembers V8's answer for the key when it maps onto the chain. */
  void Learn(void* const* frames, const v8::SampleInfo& info);
  /** Check mode: compares a replay with V8's answer for the same sample, and counts. */
  void Compare(void* const* ours, const v8::SampleInfo& our_info, void* const* v8s,
               const v8::SampleInfo& v8_info);

 private:
  static constexpr size_t kMaxLiterals = 4;
  struct Entry {
    uint64_t h1 = 0, h2 = 0;  // the key's two hashes; h1 == 0 marks an empty entry
    uint32_t n = 0;           // frames V8 reported
    int32_t vm_state = 0;
    uintptr_t literals[kMaxLiterals] = {};
  };
  // A recipe step: (k << 2) | kind. For a pc or a bytecode, k indexes the chain (a frame's pc
  // is the return address its callee saved: the chain's ret of k - 1, for k == 0 the word at
  // sp); for a literal, the entry's literals.
  using Step = uint16_t;
  static constexpr Step kStepPc = 0, kStepBytecode = 1, kStepLiteral = 2;

  uintptr_t PcOf(size_t k) const { return k == 0 ? top_word_ : ret_[k - 1]; }
  /** This sample's entry: h1's low bits (its lowest is always 1). */
  size_t Slot() const { return (h1_ >> 1) % kEntries; }
  bool InBuiltins(uintptr_t pc) const {
    for (size_t i = 0; i < nbuiltins_; i++)
      if (pc >= builtins_lo_[i] && pc < builtins_hi_[i]) return true;
    return false;
  }
  /** V8's value for an interpreted frame: BytecodeArray + offset when its slots are valid. */
  bool BytecodeOf(size_t k, uintptr_t* value) const;

  MemoMode mode_;
  uintptr_t code_lo_ = 0, code_hi_ = 0;  // the isolate's code range (JIT code)
  static constexpr size_t kMaxBuiltinRanges = 4;
  uintptr_t builtins_lo_[kMaxBuiltinRanges] = {}, builtins_hi_[kMaxBuiltinRanges] = {};  // where builtins run
  size_t nbuiltins_ = 0;
  uintptr_t text_lo_ = 0, text_hi_ = 0;  // the executable's code (API callbacks)
  uintptr_t stack_lo_ = 0, stack_hi_ = 0;
  bool armed_ = false;

  // This sample (Prepare → Replay/Learn).
  bool prepared_ = false;
  bool top_word_ok_ = false;  // a builtin pc: the word at sp is part of the key
  uintptr_t top_word_ = 0;
  size_t chain_n_ = 0;
  uint64_t h1_ = 0, h2_ = 0;
  uintptr_t fp_[kMaxChain];
  uintptr_t ret_[kMaxChain];

  std::unique_ptr<Entry[]> entries_;
  std::unique_ptr<Step[]> steps_;  // kEntries × kMaxSteps
  Step scratch_steps_[kMaxSteps];

  std::atomic<uint64_t> hits_{0}, learned_{0}, unmapped_{0}, bypassed_{0}, mismatches_{0}, fast_call_{0};
  int64_t mismatch_frame_ = 0;
  uint64_t mismatch_ours_ = 0, mismatch_v8_ = 0;
};

}  // namespace perfprofile
