// The repairs of V8's stack samples, as named steps.
// GetStackSample omits the executing frame, drops the interpreted or baseline function under
// frameless code, and reports frames at pcs that no code event covers yet or any more. Each
// step appends frame ids to stack_.
#include "codemap.h"
#include "interpreter_frame.h"

namespace perfprofile {

void CodeMap::NameStack(const RawSample& s, const Fixes& fixes) {
  // The first caller frame as V8 reported it (the interpreted frame of a bytecode handler).
  CodeHit first;
  if (s.nframes > 0) first = Find(Translated(s.frames[0], fixes.remap));
  if (s.vm_state == v8::StateTag::GC) stack_.push_back(kIdGc);
  Leaf leaf;
  if (fixes.leaf && s.vm_state != v8::StateTag::GC) {
    leaf = AddLeaf(s, Translated(s.pc, fixes.remap), first, fixes.remap);
  }
  if (fixes.frameless && (leaf.in_handler || leaf.builtin)) RecoverFramelessCaller(s, first, leaf.in_handler);
  for (size_t i = 0; i < s.nframes; i++) AddCaller(s, i, fixes);
}

// The executing frame, which GetStackSample omits, named from regs.pc. The leaf may be
// frameless code running on its caller's frame: a bytecode handler (the frame is the
// interpreted function's), or possibly a builtin called from Sparkplug code (the `*_Baseline`
// builtins build no frame, so fp is still the baseline frame); the result says which.
CodeMap::Leaf CodeMap::AddLeaf(const RawSample& s, uintptr_t pc, const CodeHit& first, bool fix_remap) {
  Leaf leaf;
  CodeHit hit = Find(pc);
  if (hit.entry != nullptr) {
    const uint32_t id = FrameOf(hit.entry->name);
    if (StartsWith(frames_[id].name, "BytecodeHandler:")) {
      // The interpreter running the interpreted frame below: not a frame of its own.
      leaf.in_handler = true;
    } else if (!(first.entry != nullptr && hit.start == first.start && first.offset == hit.offset)) {
      // The executing code, unless V8 reported this very pc as frames[0] (GetStackSample starts
      // at the caller's return address; frames[0] in the same code is a recursive caller).
      stack_.push_back(WithCode(id, *hit.entry, hit.offset));
      fixed_.leaf += s.count;
      leaf.builtin = frames_[id].kind == kBuiltin;
    }
  } else if (s.external != 0) {
    bool ignored;
    stack_.push_back(NameUnmapped(s.external, fix_remap, &ignored));
    fixed_.leaf += s.count;
  } else {
    uint32_t id = NameUnmapped(pc, fix_remap, &leaf.in_handler);
    // A bytecode handler is the interpreter running the frame below: not a frame of its own.
    if (!leaf.in_handler && id != kIdUnknown) {
      stack_.push_back(id);
      fixed_.leaf += s.count;
      leaf.builtin = frames_[id].kind == kBuiltin;
    }
  }
  return leaf;
}

// Recovers the function whose interpreter or baseline frame fp is, under a frameless leaf:
// its BytecodeArray (tagged) has its first bytecode, where V8's BYTE_CODE event starts, exactly
// kInterpreterFrame.bytecode_header bytes in. The next slot holds, in an interpreter frame, the
// Smi offset (bytecode offset + header - tag; -1 at the entry check), which must fall inside
// the bytecode; in a Sparkplug frame a tagged heap object. These checks reject a stale slot
// (fp not at such a frame).
void CodeMap::RecoverFramelessCaller(const RawSample& s, const CodeHit& first, bool in_handler) {
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  if (!kL.verified || (s.bytecode & 1) != 1) return;
  const CodeEntry* bytecode = BytecodeEntry(s.bytecode);
  if (bytecode == nullptr) return;
  bool smi = (s.bc_offset & 0xffffffffu) == 0;
  bool baseline = !in_handler && (s.bc_offset & 1) == 1;
  int64_t offset = (static_cast<int64_t>(s.bc_offset) >> 32) - (kL.bytecode_header - 1);
  if (!baseline && !(smi && offset >= -1 && offset < static_cast<int64_t>(bytecode->len))) return;
  // Ids first: FrameOf may grow frames_, so no reference into it is held across a call.
  uint32_t id = FrameOf(bytecode->name);
  uint32_t first_id = first.entry != nullptr ? FrameOf(first.entry->name) : kIdUnknown;
  if (first.entry != nullptr && SameFunction(frames_[first_id].name, frames_[id].name)) return;
  // A baseline frame runs the function's Sparkplug code: name it so when V8 reported it. An
  // interpreted frame is at its bytecode offset (-1: the entry check, no position).
  if (baseline)
    id = TierVariant(id, '^');
  else if (offset >= 0)
    id = WithCode(id, *bytecode, static_cast<uintptr_t>(offset));
  stack_.push_back(id);
  fixed_.frameless += s.count;
}

// Caller frame i as V8 reported it: its code, else (in this order) a builtin or native symbol,
// code being compiled, a function at its entry check, the innermost frame at a garbage pc, a
// function compiled lazily; a Smi read from a half-built frame is dropped, the rest is unknown.
void CodeMap::AddCaller(const RawSample& s, size_t i, const Fixes& fixes) {
  const uintptr_t frame = Translated(s.frames[i], fixes.remap);
  CodeHit hit = Find(frame);
  if (hit.entry != nullptr) {
    // An interpreted frame's pc is its BytecodeArray plus the offset of the bytecode running (the
    // call): looked up as is. Machine code's is a return address, just after its call: minus 1.
    uint32_t id = FrameOf(hit.entry->name);
    bool executing = i == 0 && frame == Translated(s.pc, fixes.remap);
    if (hit.entry->code_type == v8::JitCodeEvent::BYTE_CODE || executing)
      id = WithCode(id, *hit.entry, hit.offset);
    else if (hit.offset > 0)
      id = WithCode(id, *hit.entry, hit.offset - 1);
    stack_.push_back(id);
    return;
  }
  bool ignored;
  uint32_t id = NameUnmapped(frame, fixes.remap, &ignored);
  // A function being compiled when the sample hit (vm state COMPILER, lazy compilation):
  // its frame already points into bytecode whose CODE_ADDED comes just after the sample.
  if (id == kIdUnknown) id = LookAhead(frame);
  if (id == kIdUnknown) id = EntryCheckOf(frame);
  if (id == kIdUnknown && i == 0 && fixes.frameless) {
    // The innermost JS frame at a pc V8 derived from garbage (V8 13.6: an interpreter frame
    // before its offset slot is written; a frame under an INTERNAL frame with no return
    // address; see kRecOwnerBytecode): the BytecodeArray slot of the frame the signal handler
    // matched to this pc names it, if it is exactly a header before a BYTE_CODE entry.
    id = BytecodeOf(s.owner_bytecode);
    if (id != kIdUnknown && !stack_.empty() && frames_[stack_.back()].function == id)
      return;  // the frameless fix named it
    if (id != kIdUnknown) fixed_.frameless += s.count;
  }
  if (id == kIdUnknown && i == 0 && s.vm_state >= v8::StateTag::PARSER &&
      s.vm_state <= v8::StateTag::COMPILER) {
    // The function being compiled lazily: its frame exists, its code does not yet.
    id = frames_.Intern("(compile)", kNative);
  }
  if (id == kIdUnknown && (frame & 0xffffffffu) == 0) return;  // a Smi read from a half-built frame
  if (id == kIdUnknown) unresolved_ += s.count;
  stack_.push_back(id);
}

// An interpreted frame at function entry: V8 reports bytecode offset -1 (the entry stack
// check), an address just before the first bytecode.
uint32_t CodeMap::EntryCheckOf(uintptr_t pc) {
  auto next = code_.upper_bound(pc);
  if (next != code_.end() && next->second.code_type == v8::JitCodeEvent::BYTE_CODE &&
      next->first - pc <= 64) {
    return FrameOf(next->second.name);
  }
  return kIdUnknown;
}

// Frame `id` at `offset` in the code `entry`, when it is a JS function's code (bytecode, or
// Sparkplug, Maglev or TurboFan code); a builtin or stub frame names its code only.
// Its line there, and an inlined function inferred there, come from the code's line table
// (line_tables.h): computed once per frame.
uint32_t CodeMap::WithCode(uint32_t id, const CodeEntry& entry, uintptr_t offset) {
  if (frames_[id].kind != kJs || offset >= entry.len) return id;
  CodeAt at;
  at.origin = entry.origin;
  at.size = entry.len;
  at.offset = static_cast<uint32_t>(offset);
  uint32_t found;
  if (frames_.FindAt(id, at, &found)) return found;
  if (entry.table && entry.code_type == v8::JitCodeEvent::BYTE_CODE) {
    // Bytecode runs its own function only.
    const LinePos* row = entry.table->At(at.offset);
    if (row != nullptr) at.line = row->line, at.column = row->column;
  } else if (entry.table && index_) {
    Inference inf = index_->Infer(frames_[id].name, entry.table, at.offset);
    at.line = inf.line;
    at.column = inf.column;
    at.inlined = std::move(inf.inlined);
    at.inlined_line = inf.inlined_line;
    at.inlined_column = inf.inlined_column;
  }
  return frames_.InternAt(id, at);
}

// The function of a tagged BytecodeArray pointer read from a frame slot, or unknown.
uint32_t CodeMap::BytecodeOf(uintptr_t tagged) {
  if (!kInterpreterFrame.verified || (tagged & 1) != 1) return kIdUnknown;
  const CodeEntry* bytecode = BytecodeEntry(tagged);
  return bytecode != nullptr ? FrameOf(bytecode->name) : kIdUnknown;
}

}  // namespace perfprofile
