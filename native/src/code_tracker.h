// The thread's live code (CodeTracker), and the registry that routes each isolate's code events.
// The tracker keeps the code from trackCode() on; the registry routes V8's JIT code events of
// each isolate to its tracker and to its running sampler's CodeMap.
#pragma once

#include <v8.h>

#include <memory>
#include <mutex>

#include "code_ranges.h"
#include "line_tables.h"
#include "names.h"

namespace perfprofile {

class CodeMap;

/**
 * The code of one isolate as it is now, kept from Track() until the isolate goes away, so that a
 * sampler started later can name code compiled before it. Needed since V8 12: there
 * kJitCodeEventEnumExisting reports bytecode and baseline code but not optimized (Maglev,
 * TurboFan, OSR) code that already exists, so a sampler started after a benchmark's warm-up
 * lost its hottest leaf frames. On V8 11.3 enumeration covers it; tracking is harmless there.
 * Costs one code event per compilation and per code move while tracked.
 */
class CodeTracker {
 public:
  /** Starts tracking the isolate (JS thread; idempotent): enumerates existing code, then follows events. */
  static void Track(v8::Isolate* isolate);
  /** Stops tracking it (the isolate's environment is being torn down). JS thread. */
  static void Untrack(v8::Isolate* isolate);
  static bool Tracking(v8::Isolate* isolate);

 private:
  friend void AttachCodeMap(v8::Isolate* isolate, CodeMap* map);
  friend void DispatchJitCodeEvent(const v8::JitCodeEvent* event);
  void Apply(const v8::JitCodeEvent* e, const LineTablePtr& table);  // under mu_

  std::mutex mu_;    // held while an event is applied here and logged by an attached CodeMap
  CodeRanges live_;  // names: ids in names_
  std::shared_ptr<NameTable> names_ = std::make_shared<NameTable>();
};

/**
 * Routes the isolate's code events to `map` from now on (JS thread). A tracked isolate seeds the
 * map from its tracker's live code; an untracked one gets the handler, with existing code
 * enumerated (on V8 >= 12 only bytecode and baseline code: optimized code needs trackCode()).
 */
void AttachCodeMap(v8::Isolate* isolate, CodeMap* map);
/** Stops routing the isolate's code events to its map; an untracked isolate loses the handler. */
void DetachCodeMap(v8::Isolate* isolate);

/** The JIT code event handler behind CodeMap and CodeTracker (internal). */
void DispatchJitCodeEvent(const v8::JitCodeEvent* event);

}  // namespace perfprofile
