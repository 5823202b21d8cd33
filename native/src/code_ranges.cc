// Code objects by address and the code-event update (see code_ranges.h).
#include "code_ranges.h"

#include <v8.h>

#include <iterator>
#include <utility>

#include "names.h"

namespace perfprofile {

namespace {

// Erases every entry overlapping [lo, hi).
void EraseOverlaps(uintptr_t lo, uintptr_t hi, CodeRanges* code) {
  auto it = code->lower_bound(lo);
  if (it != code->begin()) {
    auto prev = std::prev(it);
    if (prev->first + prev->second.len > lo) it = prev;
  }
  while (it != code->end() && it->first < hi) it = code->erase(it);
}

}  // namespace

bool IsCodeEvent(const v8::JitCodeEvent* e) {
  return e->type == v8::JitCodeEvent::CODE_ADDED || e->type == v8::JitCodeEvent::CODE_MOVED ||
         e->type == v8::JitCodeEvent::CODE_REMOVED;
}

CodeEvent ToCodeEvent(const v8::JitCodeEvent* e,
                      const std::function<uint32_t(std::string name, uint8_t kind)>& intern,
                      LineTablePtr table) {
  CodeEvent ev;
  ev.type = static_cast<uint8_t>(e->type);
  ev.code_type = static_cast<uint8_t>(e->code_type);
  ev.start = reinterpret_cast<uintptr_t>(e->code_start);
  ev.len_or_new = 0;
  ev.name = 0;
  if (e->type == v8::JitCodeEvent::CODE_ADDED) {
    std::string name(e->name.str, e->name.len);
    uint8_t kind = CodeKind(e->code_type == v8::JitCodeEvent::BYTE_CODE, name);
    ev.len_or_new = e->code_len;
    ev.name = intern(std::move(name), kind);
    ev.table = std::move(table);
  } else if (e->type == v8::JitCodeEvent::CODE_MOVED) {
    ev.len_or_new = reinterpret_cast<uintptr_t>(e->new_code_start);
  }
  return ev;
}

void ApplyCodeEvent(const CodeEvent& e, CodeRanges* code) {
  switch (e.type) {
    case v8::JitCodeEvent::CODE_ADDED: {
      uintptr_t len = e.len_or_new > 0 ? e.len_or_new : 1;
      EraseOverlaps(e.start, e.start + len, code);
      (*code)[e.start] = CodeEntry{len, e.name, e.code_type, e.start, e.table};
      break;
    }
    case v8::JitCodeEvent::CODE_MOVED: {
      auto it = code->find(e.start);
      if (it == code->end()) break;
      CodeEntry moved = it->second;
      code->erase(it);
      EraseOverlaps(e.len_or_new, e.len_or_new + moved.len, code);
      (*code)[e.len_or_new] = moved;
      break;
    }
    case v8::JitCodeEvent::CODE_REMOVED:
      code->erase(e.start);
      break;
    default:
      break;
  }
}

CodeHit FindCode(const CodeRanges& code, uintptr_t pc) {
  CodeHit hit;
  auto it = code.upper_bound(pc);
  if (it == code.begin()) return hit;
  --it;
  if (pc >= it->first + it->second.len) return hit;
  hit.entry = &it->second;
  hit.start = it->first;
  hit.offset = pc - it->first;
  return hit;
}

}  // namespace perfprofile
