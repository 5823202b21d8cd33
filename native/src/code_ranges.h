// Code objects by address, and the one update each code event applies to them.
// A CodeTracker (the thread's live code) and a CodeMap (a profile's timeline) both apply it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "line_tables.h"

namespace v8 {
struct JitCodeEvent;
}

namespace perfprofile {

/**
 * A code object: its size, its name (an id in its owner's table), V8's code type, and its start
 * when it was added (or enumerated), kept across moves: what names the code object to a reader
 * of V8's code log (frames carry it to core's inline chains), and the key per-code tables
 * (e.g. CODE_ADD_LINE_POS_INFO line positions) would hang off.
 */
struct CodeEntry {
  uintptr_t len;
  uint32_t name;
  uint8_t code_type;  // v8::JitCodeEvent::CodeType
  uintptr_t origin;
  LineTablePtr table = nullptr;  // CODE_ADD_LINE_POS_INFO rows V8 sent for this code, if any
};

/** Code objects by start address; they never overlap. */
using CodeRanges = std::map<uintptr_t, CodeEntry>;

/** A V8 code event, reduced to what the maps keep. */
struct CodeEvent {
  uint8_t type;       // v8::JitCodeEvent::EventType: CODE_ADDED, CODE_MOVED or CODE_REMOVED
  uint8_t code_type;  // v8::JitCodeEvent::CodeType
  uintptr_t start;
  uintptr_t len_or_new;  // CODE_ADDED: the code's length; CODE_MOVED: its new start
  uint32_t name;         // CODE_ADDED: the code's name id
  LineTablePtr table;    // CODE_ADDED: its line table (LineRecorder::Claim), if V8 sent one
};

/** Whether V8's event changes the code map (code added, moved or removed). */
bool IsCodeEvent(const v8::JitCodeEvent* e);
/**
 * V8's event as the maps apply it. A CODE_ADDED's code name, as V8 gives it (e.g.
 * "JS:*hot file:///a.mjs:7:20"), and its FrameKind go to `intern`, which returns the name's
 * id in the applier's table.
 */
CodeEvent ToCodeEvent(const v8::JitCodeEvent* e,
                      const std::function<uint32_t(std::string name, uint8_t kind)>& intern,
                      LineTablePtr table = nullptr);

/**
 * Applies one event: added code (at least 1 byte long) replaces whatever it overlaps; moved
 * code, whatever it overlaps at its new start, keeping its origin (a move of code not in the
 * map is ignored); removed code goes.
 */
void ApplyCodeEvent(const CodeEvent& e, CodeRanges* code);

/**
 * The code object containing a pc: its start and entry (size, name, type) and the pc's offset
 * in it, what naming a pc within optimized code (inlined frames) would start from.
 */
struct CodeHit {
  const CodeEntry* entry = nullptr;  // nullptr: no code contains the pc
  uintptr_t start = 0;
  uintptr_t offset = 0;
};
CodeHit FindCode(const CodeRanges& code, uintptr_t pc);

}  // namespace perfprofile
