// A profile's code-event timeline (see codemap.h).
// Runs outside the signal handler: the JIT handler appends to a mutex-guarded log; stop()
// replays log and samples in sequence order.
#include "codemap.h"

#include "code_tracker.h"
#include "interpreter_frame.h"

namespace perfprofile {

void CodeMap::Attach(v8::Isolate* isolate) {
  isolate_ = isolate;
  const void* start = nullptr;
  size_t len = 0;
  isolate->GetEmbeddedCodeRange(&start, &len);
  builtins_.SetEmbeddedRange(reinterpret_cast<uintptr_t>(start), reinterpret_cast<uintptr_t>(start) + len);
  AttachCodeMap(isolate, this);
}

void CodeMap::Detach() {
  if (isolate_ == nullptr) return;
  DetachCodeMap(isolate_);
  isolate_ = nullptr;
}

// Copies the tracker's entries only: their names stay in its NameTable until a sample needs
// one (FrameOf), as interning every live entry's name at each start cost more than the rest
// of the start (docs/PERFORMANCE.md).
void CodeMap::Seed(const CodeRanges& live, std::shared_ptr<NameTable> names) {
  std::lock_guard<std::mutex> lock(mu_);
  seed_names_ = std::move(names);
  for (const auto& kv : live) {
    const CodeEntry& c = kv.second;
    // In address order into an empty map: each insert lands at the end.
    code_.emplace_hint(code_.end(), kv.first,
                       CodeEntry{c.len, c.name | kSeedName, c.code_type, c.origin, c.table});
  }
  seeded_ = live.size();
}

void CodeMap::OnEvent(const v8::JitCodeEvent* e, const LineTablePtr& table) {
  if (!IsCodeEvent(e)) return;
  std::lock_guard<std::mutex> lock(mu_);
  Event ev;
  ev.code = ToCodeEvent(
      e, [this](std::string name, uint8_t kind) { return frames_.Intern(name, kind); }, table);
  // A new epoch (see SampleSeq): samples on either side of this event are never merged.
  ev.seq = seq_.fetch_add(kEventStep, std::memory_order_acq_rel);
  log_.push_back(ev);
  events_seen_++;
}

void CodeMap::ApplyUpTo(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  while (applied_ < log_.size() && log_[applied_].seq < seq) ApplyCodeEvent(log_[applied_++].code, &code_);
}

void CodeMap::Finish() { ApplyUpTo(UINT64_MAX); }

uint32_t CodeMap::LookAhead(uintptr_t pc) const {
  size_t end = log_.size();
  for (size_t i = applied_; i < end; i++) {
    const CodeEvent& ev = log_[i].code;
    if (ev.type == v8::JitCodeEvent::CODE_ADDED && pc >= ev.start && pc < ev.start + ev.len_or_new)
      return ev.name;
  }
  return kIdUnknown;
}

void CodeMap::CollectCodeStarts(std::unordered_set<uintptr_t>* starts, size_t* cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  // The seed (code_ changes only at stop(), in ApplyUpTo, after the consumer thread is joined).
  if (*cursor == 0) {
    for (const auto& kv : code_) starts->insert(kv.first);
  }
  // Cursor 0 means "nothing read yet"; positions are stored one past.
  for (size_t i = *cursor == 0 ? 0 : *cursor - 1; i < log_.size(); i++) {
    const CodeEvent& ev = log_[i].code;
    if (ev.type == v8::JitCodeEvent::CODE_ADDED) starts->insert(ev.start);
    if (ev.type == v8::JitCodeEvent::CODE_MOVED) starts->insert(ev.len_or_new);
  }
  *cursor = log_.size() + 1;
}

uint32_t CodeMap::FrameOf(uint32_t name) {
  if ((name & kSeedName) == 0 || !seed_names_) return name;
  uint32_t i = name & ~kSeedName;
  if (i < seed_ids_.size() && seed_ids_[i] != UINT32_MAX) return seed_ids_[i];
  std::string text;
  uint8_t kind = kUnknown;
  uint32_t id = seed_names_->Get(i, &text, &kind) ? frames_.Intern(text, kind) : kIdUnknown;
  if (i >= seed_ids_.size()) seed_ids_.resize(i + 1, UINT32_MAX);
  seed_ids_[i] = id;
  return id;
}

const CodeEntry* CodeMap::BytecodeEntry(uintptr_t tagged) const {
  auto it = code_.find(FirstBytecode(tagged));
  return it != code_.end() && it->second.code_type == v8::JitCodeEvent::BYTE_CODE ? &it->second : nullptr;
}

uint32_t CodeMap::NameUnmapped(uintptr_t pc, bool fix_remap, bool* is_bytecode_handler) {
  *is_bytecode_handler = false;
  if (!builtins_.loaded()) builtins_.Load();
  uint32_t id;
  if (builtins_.Name(pc, fix_remap, &frames_, &id, is_bytecode_handler)) return id;
  return natives_.Name(pc, &frames_);
}

uint32_t CodeMap::TierVariant(uint32_t id, char marker) {
  const std::string& name = frames_[id].name;
  if (!StartsWith(name, "JS:~")) return id;
  std::string variant = "JS:";
  variant.push_back(marker);
  variant.append(name, 4, std::string::npos);
  uint32_t found;
  if (frames_.Find(variant, kJs, &found)) return found;
  // Named by the tracker but not yet used here.
  uint32_t seeded;
  if (seed_names_ && seed_names_->Find(variant, &seeded)) {
    found = FrameOf(seeded | kSeedName);
    if (found != kIdUnknown && frames_[found].kind == kJs) return found;
  }
  return id;
}

void CodeMap::AddSample(const RawSample& s, const Fixes& fixes) {
  ApplyUpTo(s.seq);
  stack_.clear();
  if (!builtins_.loaded()) builtins_.Load();
  CountPcs(s, fixes.remap);
  std::lock_guard<std::mutex> lock(mu_);  // frames_ is shared with OnEvent
  NameStack(s, fixes);
  Fold(s);
}

void CodeMap::CountPcs(const RawSample& s, bool fix_remap) {
  // s stands for s.count identical samples: every per-sample count adds s.count.
  auto count_pc = [&](uintptr_t pc) {
    if (builtins_.InBlob(pc)) blob_pcs_ += s.count;
    if (builtins_.Translate(pc) != pc) {
      remap_pcs_ += s.count;
      if (fix_remap) fixed_.remap += s.count;
    }
  };
  count_pc(s.pc);
  for (size_t i = 0; i < s.nframes; i++) count_pc(s.frames[i]);
}

void CodeMap::Fold(const RawSample& s) {
  if (stack_.empty()) stack_.push_back(s.vm_state == v8::StateTag::IDLE ? kIdIdle : kIdProgram);
  uint64_t truncated = s.total - s.nframes;
  if (stack_.size() > s.depth) {
    truncated += stack_.size() - s.depth;
    stack_.resize(s.depth);
  }
  key_.clear();
  auto put = [&](uint32_t v) { key_.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(static_cast<uint32_t>(s.vm_state));
  put(static_cast<uint32_t>(truncated));
  for (uint32_t id : stack_) put(id);
  FoldedStack& f = stacks_[key_];
  if (f.values.empty()) f.values.assign(s.nvalues, 0);
  f.count += s.count;
  for (size_t i = 0; i < s.nvalues; i++) f.values[i] += static_cast<double>(s.values[i]);
}

}  // namespace perfprofile
