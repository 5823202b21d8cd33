// The memo of V8's stack walk (stack_memo.h). After Arm(), signal handler only.
#include "stack_memo.h"

#include <link.h>

#include <cstring>

#include "builtins.h"
#include "interpreter_frame.h"

namespace perfprofile {

namespace {

constexpr uint64_t kMul1 = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kMul2 = 0xc2b2ae3d27d4eb4full;

// Two hashes of the key (one multiplicative, one add-rotate): an entry answers only a key
// whose both hashes match. One multiply per word on the dependency chain.
inline void Mix(uint64_t* h1, uint64_t* h2, uint64_t w) {
  *h1 = (*h1 ^ w) * kMul1;
  *h2 = ((*h2 << 23) | (*h2 >> 41)) + (w ^ kMul2);
}

// V8 tells a typed frame from a JavaScript one by the word below the saved fp: a type marker
// (an even word, the frame type shifted left by one) or the context (a tagged pointer, odd).
// Markers of real types are small; every even word past them means the same to V8 (no known
// type), so they share one key value and stack garbage in C++ frames does not split keys.
constexpr uintptr_t kMarkerLimit = 256;
constexpr uintptr_t kOtherEven = ~uintptr_t(1);

// V8's JS entry frame on x64 (V8 11.3, 12.4, 13.6): marker ENTRY (type 1) or CONSTRUCT_ENTRY
// (2), and the isolate's c_entry_fp as JSEntry found it, saved 64 bytes below fp (after the
// marker, the context slot and five callee-saved registers). 0 there means no JavaScript
// called the C++ below, and V8's walk ends at this frame: so does the key, which leaves out
// the C++ frames down to main. Were these facts wrong for some V8, a walk V8 continued past
// the frame would reach frames the key lacks, which Learn cannot map: no answer kept.
constexpr uintptr_t kEntryMarker = 1 << 1, kConstructEntryMarker = 2 << 1;
constexpr int kEntryCEntryFpFromFp = -64;

// V8 gives up on a sample whose pc is in JIT code at a frame's setup or teardown: push rbp;
// mov rbp, rsp, or pop rbp; ret [n], at pc or one byte before it (TickSample's IsNoFrameRegion
// on x64). Such samples go to V8; a page start or end counts as a match rather than read past it.
bool MaybeNoFrameRegion(uintptr_t pc) {
  const uintptr_t in_page = pc & 4095;
  if (in_page == 0 || in_page > 4096 - 4) return true;
  const uint8_t* b = reinterpret_cast<const uint8_t*>(pc);
  for (int back = 0; back <= 1; back++) {
    const uint8_t* p = b - back;
    if (p[0] == 0x55 && p[1] == 0x48 && p[2] == 0x89 && p[3] == 0xe5) return true;
    if (p[0] == 0x5d && (p[1] == 0xc2 || p[1] == 0xc3)) return true;
  }
  return false;
}

// The executable's code (node's, where V8's API callbacks live), from its program headers.
int FindExecutableText(dl_phdr_info* info, size_t, void* out) {
  if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') return 0;  // a shared object
  auto* range = static_cast<uintptr_t*>(out);  // the span of its executable segments
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (range[1] == 0 || lo < range[0]) range[0] = lo;
    if (lo + ph.p_memsz > range[1]) range[1] = lo + ph.p_memsz;
  }
  return 1;
}

}  // namespace

StackMemo::StackMemo(MemoMode mode) : mode_(kInterpreterFrame.verified ? mode : MemoMode::kOff) {
  if (mode_ == MemoMode::kOff) return;
  entries_.reset(new Entry[kEntries]);
  steps_.reset(new Step[kEntries * kMaxSteps]);
}

void StackMemo::Arm(v8::Isolate* isolate, uintptr_t stack_lo, uintptr_t stack_hi) {
  if (mode_ == MemoMode::kOff) return;
  void* code = nullptr;
  size_t code_len = 0;
  isolate->GetCodeRange(&code, &code_len);
  const void* builtins = nullptr;
  size_t builtins_len = 0;
  isolate->GetEmbeddedCodeRange(&builtins, &builtins_len);
  // Builtins run from the embedded range and from second mappings of the executable (which
  // may lie inside the code range): all of them are keyed by the pc.
  nbuiltins_ = 0;
  builtins_lo_[nbuiltins_] = reinterpret_cast<uintptr_t>(builtins);
  builtins_hi_[nbuiltins_++] = reinterpret_cast<uintptr_t>(builtins) + builtins_len;
  for (const TextRemap& r : ExecutableRemaps()) {
    if (nbuiltins_ == kMaxBuiltinRanges) break;
    builtins_lo_[nbuiltins_] = r.lo;
    builtins_hi_[nbuiltins_++] = r.hi;
  }
  code_lo_ = reinterpret_cast<uintptr_t>(code);
  code_hi_ = code_lo_ + code_len;
  uintptr_t text[2] = {0, 0};
  dl_iterate_phdr(FindExecutableText, text);
  text_lo_ = text[0];
  text_hi_ = text[1];
  stack_lo_ = stack_lo;
  stack_hi_ = stack_hi;
  armed_ = code_len > 0 && stack_hi > stack_lo;
}

MemoCounts StackMemo::counts() const {
  MemoCounts c;
  c.hits = hits_.load();
  c.learned = learned_.load();
  c.unmapped = unmapped_.load();
  c.bypassed = bypassed_.load();
  c.mismatches = mismatches_.load();
  c.fast_call = fast_call_.load();
  c.mismatch_frame = mismatch_frame_;
  c.mismatch_ours = mismatch_ours_;
  c.mismatch_v8 = mismatch_v8_;
  return c;
}

// ---- In the signal handler ------------------------------------------------------------------

bool StackMemo::Prepare(uintptr_t pc, uintptr_t sp, uintptr_t fp) {
  prepared_ = false;
  if (!armed_) return false;
  uint64_t h1 = 0x243f6a8885a308d3ull, h2 = 0x13198a2e03707344ull;
  // Where the pc is. In a builtin, V8's walk may depend on the very instruction (an exit
  // frame being built, a frameless bytecode handler whose caller's pc is the word at sp): the
  // key holds the pc and that word. In JIT code V8 only checks for a frame being set up.
  top_word_ok_ = false;
  if (InBuiltins(pc)) {
    if ((sp & 7) != 0 || sp < stack_lo_ || sp + 8 > stack_hi_) return BumpFromHandler(bypassed_), false;
    top_word_ = StackWord(sp);
    top_word_ok_ = true;
    Mix(&h1, &h2, pc);
    Mix(&h1, &h2, top_word_);
  } else if (pc >= code_lo_ && pc < code_hi_ && !MaybeNoFrameRegion(pc)) {
    Mix(&h1, &h2, 1);
  } else {
    return BumpFromHandler(bypassed_), false;
  }
  // The top frame must be built down to its function slot, which V8 reads.
  if ((fp & 7) != 0 || fp < sp + 16 || fp + 16 > stack_hi_ || sp < stack_lo_)
    return BumpFromHandler(bypassed_), false;

  // The chain: every record up the stack, as long as each saved fp points further up.
  size_t n = 0;
  for (uintptr_t f = fp;;) {
    if (n == kMaxChain) return BumpFromHandler(bypassed_), false;
    const uintptr_t caller = StackWord(f);
    const uintptr_t ret = StackWord(f + 8);
    const uintptr_t marker = StackWord(f - 8);
    uintptr_t kind;
    if ((marker & 1) != 0)
      kind = 1 | (StackWord(f - 16) & 1) << 1;  // JavaScript: whether the function slot is a Smi
    else
      kind = marker < kMarkerLimit ? marker : kOtherEven;
    fp_[n] = f;
    ret_[n] = ret;
    n++;
    // One word per frame: the multiply by an odd constant keeps ret's bits apart from f's.
    Mix(&h1, &h2, f ^ (ret * kMul2) ^ (kind << 56 | kind >> 8));
    if ((kind == kEntryMarker || kind == kConstructEntryMarker) && f + kEntryCEntryFpFromFp >= sp &&
        StackWord(f + kEntryCEntryFpFromFp) == 0)
      break;
    if ((caller & 7) != 0 || caller <= f || caller + 16 > stack_hi_) {
      Mix(&h1, &h2, caller);
      break;
    }
    f = caller;
  }
  Mix(&h1, &h2, n);
  chain_n_ = n;
  h1 ^= h1 >> 31;  // the entry index is h1's low bits: fold the high ones in
  h1_ = h1 | 1;    // never 0, the empty mark
  h2_ = h2;
  prepared_ = true;
  return true;
}

bool StackMemo::BytecodeOf(size_t k, uintptr_t* value) const {
  const uintptr_t f = fp_[k];
  if (f + static_cast<uintptr_t>(kInterpreterFrame.bytecode_offset_from_fp) < stack_lo_) return false;
  const uintptr_t array = StackWord(f + kInterpreterFrame.bytecode_array_from_fp);
  const uintptr_t offset = StackWord(f + kInterpreterFrame.bytecode_offset_from_fp);
  // V8's rule (TickSample::GetStackSample): a heap object and a Smi, else the frame's pc.
  if ((array & 3) != 1 || (offset & 1) != 0) return false;
  *value = array + static_cast<uintptr_t>(static_cast<int64_t>(offset) >> 32);
  return true;
}

bool StackMemo::Replay(void** frames, size_t cap, v8::SampleInfo* info) {
  const Entry& e = entries_[Slot()];
  if (e.h1 != h1_ || e.h2 != h2_ || e.n > cap) return false;
  const Step* steps = &steps_[Slot() * kMaxSteps];
  for (uint32_t j = 0; j < e.n; j++) {
    const size_t k = steps[j] >> 2;
    uintptr_t v;
    switch (steps[j] & 3) {
      case kStepBytecode:
        if (!BytecodeOf(k, &v)) v = PcOf(k);
        break;
      case kStepLiteral:
        v = e.literals[k];
        break;
      default:
        v = PcOf(k);
    }
    frames[j] = reinterpret_cast<void*>(v);
  }
  info->frames_count = e.n;
  info->vm_state = static_cast<v8::StateTag>(e.vm_state);
  info->external_callback_entry = nullptr;
  BumpFromHandler(hits_);
  return true;
}

void StackMemo::Learn(void* const* frames, const v8::SampleInfo& info) {
  if (!prepared_) return;
  prepared_ = false;
  if (info.external_callback_entry != nullptr || info.frames_count > kMaxSteps)
    return BumpFromHandler(unmapped_);
  // Each frame V8 reported, found further up the chain than the one before: as an interpreted
  // frame's BytecodeArray + offset, or as a pc (the return address its callee saved). An
  // interpreted frame below the top always has valid slots, so a pc found for it means V8 did
  // not take it for one, at this key. A value found nowhere in the chain is kept as it is only
  // when it lies in the executable's code: an API callback's entry, which V8 reports for its
  // exit frame (from the callback scope) and which the chain fixes, since the callback's own
  // frame is in it. Not V8's code (a fast C call's caller pc, kept by the isolate), nor a frame
  // V8 reached off the chain (a bytecode position).
  size_t k = 0;
  uint8_t nlit = 0;
  uintptr_t lits[kMaxLiterals];
  for (size_t j = 0; j < info.frames_count; j++) {
    const uintptr_t v = reinterpret_cast<uintptr_t>(frames[j]);
    bool found = false;
    for (size_t at = k; at < chain_n_ && !found; at++) {
      uintptr_t b;
      if (BytecodeOf(at, &b) && b == v) {
        scratch_steps_[j] = static_cast<Step>(at << 2 | kStepBytecode);
        found = true;
      } else if ((at > 0 || top_word_ok_) && PcOf(at) == v) {
        scratch_steps_[j] = static_cast<Step>(at << 2 | kStepPc);
        found = true;
      }
      if (found) k = at + 1;
    }
    if (!found) {
      const bool native = v >= text_lo_ && v < text_hi_ && !InBuiltins(v);
      if (!native || nlit == kMaxLiterals) return BumpFromHandler(unmapped_);
      lits[nlit] = v;
      scratch_steps_[j] = static_cast<Step>(nlit++ << 2 | kStepLiteral);
    }
  }
  // A callback's exit frame is followed by the JavaScript that called it: when that is not
  // on the chain (past the key's end), neither is the exit frame.
  if (info.frames_count > 0 && (scratch_steps_[info.frames_count - 1] & 3) == kStepLiteral)
    return BumpFromHandler(unmapped_);
  const size_t slot = Slot();
  Entry& e = entries_[slot];
  e.h1 = h1_;
  e.h2 = h2_;
  e.n = static_cast<uint32_t>(info.frames_count);
  e.vm_state = static_cast<int32_t>(info.vm_state);
  for (uint8_t i = 0; i < nlit; i++) e.literals[i] = lits[i];
  memcpy(&steps_[slot * kMaxSteps], scratch_steps_, info.frames_count * sizeof(Step));
  BumpFromHandler(learned_);
}

void StackMemo::Compare(void* const* ours, const v8::SampleInfo& our_info, void* const* v8s,
                        const v8::SampleInfo& v8_info) {
  const size_t n = our_info.frames_count;
  auto same_from = [&](size_t skip) {
    for (size_t j = 0; j < n; j++)
      if (ours[j] != v8s[j + skip]) return false;
    return true;
  };
  if (our_info.vm_state == v8_info.vm_state) {
    if (v8_info.external_callback_entry == nullptr && v8_info.frames_count == n && same_from(0)) return;
    // In JIT code between a fast API call's setup and teardown (tinybench's performance.now()
    // around every iteration), V8 starts from the caller the isolate keeps: it reports that JIT
    // pc, in the executing function, as an extra first frame (which names the function twice)
    // and the C++ function as the external callback. The replay leaves both out.
    if (v8_info.frames_count == n + 1) {
      const uintptr_t first = reinterpret_cast<uintptr_t>(v8s[0]);
      if (first >= code_lo_ && first < code_hi_ && same_from(1)) return BumpFromHandler(fast_call_);
    }
  }
  if (mismatches_.load(std::memory_order_relaxed) == 0) {
    int64_t at = -1;
    if (v8_info.frames_count == n)
      for (size_t j = 0; j < n && at < 0; j++)
        if (ours[j] != v8s[j]) at = static_cast<int64_t>(j);
    mismatch_frame_ = at;
    mismatch_ours_ = at >= 0 ? reinterpret_cast<uintptr_t>(ours[at]) : n;
    mismatch_v8_ = at >= 0 ? reinterpret_cast<uintptr_t>(v8s[at]) : v8_info.frames_count;
  }
  BumpFromHandler(mismatches_);
}

}  // namespace perfprofile
