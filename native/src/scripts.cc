// Weakly held scripts by id (see scripts.h). Only the isolate's own thread touches the handles.
#include "scripts.h"

#include <memory>
#include <mutex>
#include <unordered_map>

namespace perfprofile {

namespace {

struct Kept {
  std::unordered_map<int, v8::Global<v8::UnboundScript>> by_id;
  size_t prune_at = 64;  // collected scripts are dropped when the map grows past this
};

std::mutex g_mu;
std::unordered_map<v8::Isolate*, std::unique_ptr<Kept>> g_kept;

Kept* FindLocked(v8::Isolate* isolate) {
  auto it = g_kept.find(isolate);
  return it == g_kept.end() ? nullptr : it->second.get();
}

}  // namespace

void KeepScripts(v8::Isolate* isolate) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (FindLocked(isolate) == nullptr) g_kept.emplace(isolate, std::make_unique<Kept>());
}

void DropScripts(v8::Isolate* isolate) {
  std::unique_ptr<Kept> kept;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_kept.find(isolate);
    if (it == g_kept.end()) return;
    kept = std::move(it->second);
    g_kept.erase(it);
  }
  // The handles are reset here, on the isolate's thread, outside the lock.
}

void NoteScript(v8::Isolate* isolate, v8::Local<v8::UnboundScript> script) {
  // CODE_ADDED comes on the JS thread; a handle may not be made anywhere else.
  if (script.IsEmpty() || v8::Isolate::GetCurrent() != isolate) return;
  std::lock_guard<std::mutex> lock(g_mu);
  Kept* kept = FindLocked(isolate);
  if (kept == nullptr) return;
  v8::Global<v8::UnboundScript>& slot = kept->by_id[script->GetId()];
  if (!slot.IsEmpty()) return;
  slot.Reset(isolate, script);
  slot.SetWeak();  // reset by the GC once the script is collected: its code is gone too
  if (kept->by_id.size() > kept->prune_at) {
    for (auto it = kept->by_id.begin(); it != kept->by_id.end();) {
      it = it->second.IsEmpty() ? kept->by_id.erase(it) : std::next(it);
    }
    kept->prune_at = 2 * kept->by_id.size() + 64;
  }
}

v8::Local<v8::UnboundScript> FindScript(v8::Isolate* isolate, int id) {
  std::lock_guard<std::mutex> lock(g_mu);
  Kept* kept = FindLocked(isolate);
  if (kept == nullptr) return {};
  auto it = kept->by_id.find(id);
  return it == kept->by_id.end() ? v8::Local<v8::UnboundScript>() : it->second.Get(isolate);
}

}  // namespace perfprofile
