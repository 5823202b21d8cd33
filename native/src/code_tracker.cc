// The CodeTracker and the per-isolate registry of code-event receivers (see code_tracker.h).
#include "code_tracker.h"

#include <vector>

#include "builtins.h"
#include "codemap.h"
#include "scripts.h"

namespace perfprofile {

namespace {

// Per isolate: the sampler's code map (while one runs) and the tracker (once tracking started).
// One JIT handler serves both; V8 allows one handler per isolate.
struct IsolateCode {
  v8::Isolate* isolate;
  CodeMap* map;
  CodeTracker* tracker;
  // Bytecode positions of the functions compiled while either listened (line_tables.h).
  std::shared_ptr<FunctionIndex> index;
};
std::mutex g_registry_mu;
std::vector<IsolateCode> g_registry;

IsolateCode* FindLocked(v8::Isolate* isolate) {
  for (auto& e : g_registry) {
    if (e.isolate == isolate) return &e;
  }
  return nullptr;
}

IsolateCode Lookup(v8::Isolate* isolate) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  IsolateCode* e = FindLocked(isolate);
  return e != nullptr ? *e : IsolateCode{isolate, nullptr, nullptr, nullptr};
}

void OnJitCodeEvent(const v8::JitCodeEvent* event) { DispatchJitCodeEvent(event); }

}  // namespace

// Called by V8 on the JS thread, or on GC helper threads (CODE_MOVED). With a tracker, its
// mutex is held across both updates, so a CodeMap seeded from it (AttachCodeMap) sees every
// event exactly once: either in the seed or in its log.
// A CODE_ADDED claims the line table V8 sent just before it, once for both.
void DispatchJitCodeEvent(const v8::JitCodeEvent* event) {
  if (LineRecorder::OnLineEvent(event)) return;
  if (!IsCodeEvent(event)) return;
  IsolateCode code = Lookup(event->isolate);
  LineTablePtr table;
  if (event->type == v8::JitCodeEvent::CODE_ADDED) {
    NoteScript(event->isolate, event->script);
    table = LineRecorder::Claim(event);
    if (table && event->code_type == v8::JitCodeEvent::BYTE_CODE && code.index)
      code.index->AddBytecode(std::string(event->name.str, event->name.len), table);
  }
  CodeTracker* tracker = code.tracker;
  if (tracker == nullptr) {
    if (code.map != nullptr) code.map->OnEvent(event, table);
    return;
  }
  std::lock_guard<std::mutex> lock(tracker->mu_);
  tracker->Apply(event, table);
  CodeMap* map = Lookup(event->isolate).map;
  if (map != nullptr) map->OnEvent(event, table);
}

void CodeTracker::Track(v8::Isolate* isolate) {
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate);
    if (e != nullptr && e->tracker != nullptr) return;
    if (e == nullptr) {
      g_registry.push_back({isolate, nullptr, nullptr, std::make_shared<FunctionIndex>()});
      e = &g_registry.back();
    }
    e->tracker = new CodeTracker();
  }
  // Existing code arrives synchronously, through DispatchJitCodeEvent, before this returns; no
  // table left from an earlier handler may be claimed by it.
  LineRecorder::Forget(isolate);
  KeepScripts(isolate);
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventEnumExisting, OnJitCodeEvent);
  // Read now, not in the first profile's stop(): whoever tracks code profiles later.
  ProcessBuiltins();
}

void CodeTracker::Untrack(v8::Isolate* isolate) {
  CodeTracker* tracker = nullptr;
  bool sampling = false;
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate);
    if (e == nullptr || e->tracker == nullptr) return;
    tracker = e->tracker;
    e->tracker = nullptr;
    sampling = e->map != nullptr;
    if (!sampling) {
      g_registry.erase(g_registry.begin() + (e - g_registry.data()));
    }
  }
  if (!sampling) {
    isolate->SetJitCodeEventHandler(v8::kJitCodeEventDefault, nullptr);
    LineRecorder::Forget(isolate);
  }
  { std::lock_guard<std::mutex> wait(tracker->mu_); }  // no event is being applied any more
  delete tracker;
  DropScripts(isolate);
}

bool CodeTracker::Tracking(v8::Isolate* isolate) { return Lookup(isolate).tracker != nullptr; }

void CodeTracker::Apply(const v8::JitCodeEvent* e, const LineTablePtr& table) {
  NameTable* names = names_.get();
  ApplyCodeEvent(
      ToCodeEvent(
          e, [names](std::string name, uint8_t kind) { return names->Add(std::move(name), kind); }, table),
      &live_);
}

void AttachCodeMap(v8::Isolate* isolate, CodeMap* map) {
  IsolateCode code = Lookup(isolate);
  CodeTracker* tracker = code.tracker;
  if (tracker != nullptr) {
    map->SetFunctionIndex(code.index);
    // Register and seed under the tracker's mutex: events before this are in the seed, events
    // after it in the log, none in both or neither.
    std::lock_guard<std::mutex> hold(tracker->mu_);
    {
      std::lock_guard<std::mutex> lock(g_registry_mu);
      FindLocked(isolate)->map = map;
    }
    map->Seed(tracker->live_, tracker->names_);
    // No heap walk: the tracker enumerated existing code when tracking began and has applied
    // every event since, so the seed is the whole live code map, and the handler it installed
    // already routes events to this map. Enumerating again would re-log every code object of
    // the heap over identical entries, at every start (docs/PERFORMANCE.md).
    return;
  }
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate);
    if (e == nullptr) {
      g_registry.push_back({isolate, map, nullptr, std::make_shared<FunctionIndex>()});
      e = &g_registry.back();
    } else {
      e->map = map;
    }
    map->SetFunctionIndex(e->index);
  }
  // Untracked: enumerate existing code first, so functions compiled before start() get named.
  LineRecorder::Forget(isolate);
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventEnumExisting, OnJitCodeEvent);
}

void DetachCodeMap(v8::Isolate* isolate) {
  bool tracked = false;
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate);
    if (e != nullptr) {
      e->map = nullptr;
      tracked = e->tracker != nullptr;
      if (!tracked) g_registry.erase(g_registry.begin() + (e - g_registry.data()));
    }
  }
  // A tracked isolate keeps the handler (the tracker follows events on).
  if (!tracked) {
    isolate->SetJitCodeEventHandler(v8::kJitCodeEventDefault, nullptr);
    LineRecorder::Forget(isolate);
  }
}

}  // namespace perfprofile
