// Code-map timeline and symbolization (see codemap.h). Runs outside the signal handler: the
// JIT handler appends to a mutex-guarded log; stop() replays log and samples in sequence order.
#include "codemap.h"
#include "frames.h"

#include <algorithm>
#include <cxxabi.h>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace perfprofile {

namespace {

// Per isolate: the sampler's code map (while one runs) and the tracker (once tracking started).
// One JIT handler serves both; V8 allows one handler per isolate.
struct IsolateCode {
  v8::Isolate* isolate;
  CodeMap* map;
  CodeTracker* tracker;
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
  return e != nullptr ? *e : IsolateCode{isolate, nullptr, nullptr};
}

bool StartsWith(const std::string& s, const char* prefix) { return s.compare(0, strlen(prefix), prefix) == 0; }

// V8 names: "JS:~fn url:line:col" style for functions (tier marker after the tag), bare
// builtin / stub names otherwise. JS code is kind js; the rest is named a builtin.
uint8_t KindOf(const v8::JitCodeEvent* e, const std::string& name) {
  if (e->code_type == v8::JitCodeEvent::BYTE_CODE) return kJs;
  if (StartsWith(name, "JS:") || StartsWith(name, "Function:") || StartsWith(name, "LazyCompile:") ||
      StartsWith(name, "Script:") || StartsWith(name, "Eval:")) {
    return kJs;
  }
  return kBuiltin;
}

bool Relevant(const v8::JitCodeEvent* e) {
  return e->type == v8::JitCodeEvent::CODE_ADDED || e->type == v8::JitCodeEvent::CODE_MOVED ||
         e->type == v8::JitCodeEvent::CODE_REMOVED;
}

void OnJitCodeEvent(const v8::JitCodeEvent* event) { DispatchJitCodeEvent(event); }

// Frame ids 0..4 are fixed.
constexpr uint32_t kIdUnknown = 0;
constexpr uint32_t kIdGc = 1;
constexpr uint32_t kIdProgram = 2;
constexpr uint32_t kIdIdle = 3;

}  // namespace

// Called by V8 on the JS thread, or on GC helper threads (CODE_MOVED). With a tracker, its
// mutex is held across both updates, so a CodeMap seeded from it (Attach) sees every event
// exactly once: either in the seed or in its log.
void DispatchJitCodeEvent(const v8::JitCodeEvent* event) {
  if (!Relevant(event)) return;
  CodeTracker* tracker = Lookup(event->isolate).tracker;
  if (tracker == nullptr) {
    CodeMap* map = Lookup(event->isolate).map;
    if (map != nullptr) map->OnEvent(event);
    return;
  }
  std::lock_guard<std::mutex> lock(tracker->mu_);
  tracker->Apply(event);
  CodeMap* map = Lookup(event->isolate).map;
  if (map != nullptr) map->OnEvent(event);
}

// ---- NameTable ------------------------------------------------------------------------------

uint32_t NameTable::Add(std::string name, uint8_t kind) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = ids_.find(name);
  if (found != ids_.end()) return found->second;
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(name, kind);
  ids_.emplace(std::move(name), id);
  return id;
}

bool NameTable::Get(uint32_t id, std::string* name, uint8_t* kind) {
  std::lock_guard<std::mutex> lock(mu_);
  if (id >= names_.size()) return false;
  *name = names_[id].first;
  *kind = names_[id].second;
  return true;
}

bool NameTable::Find(const std::string& name, uint32_t* id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = ids_.find(name);
  if (found == ids_.end()) return false;
  *id = found->second;
  return true;
}

// ---- CodeTracker ----------------------------------------------------------------------------

void CodeTracker::Track(v8::Isolate* isolate) {
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate);
    if (e != nullptr && e->tracker != nullptr) return;
    if (e == nullptr) {
      g_registry.push_back({isolate, nullptr, nullptr});
      e = &g_registry.back();
    }
    e->tracker = new CodeTracker();
  }
  // Existing code arrives synchronously, through DispatchJitCodeEvent, before this returns.
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
  if (!sampling) isolate->SetJitCodeEventHandler(v8::kJitCodeEventDefault, nullptr);
  { std::lock_guard<std::mutex> wait(tracker->mu_); }  // no event is being applied any more
  delete tracker;
}

bool CodeTracker::Tracking(v8::Isolate* isolate) { return Lookup(isolate).tracker != nullptr; }

void CodeTracker::Apply(const v8::JitCodeEvent* e) {
  auto erase_overlaps = [&](uintptr_t lo, uintptr_t hi) {
    auto it = live_.lower_bound(lo);
    if (it != live_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second.len > lo) it = prev;
    }
    while (it != live_.end() && it->first < hi) it = live_.erase(it);
  };
  uintptr_t start = reinterpret_cast<uintptr_t>(e->code_start);
  switch (e->type) {
    case v8::JitCodeEvent::CODE_ADDED: {
      std::string name(e->name.str, e->name.len);
      uint8_t kind = KindOf(e, name);
      uint32_t id = names_->Add(std::move(name), kind);
      uintptr_t len = e->code_len > 0 ? e->code_len : 1;
      erase_overlaps(start, start + len);
      live_[start] = Code{len, id, static_cast<uint8_t>(e->code_type)};
      break;
    }
    case v8::JitCodeEvent::CODE_MOVED: {
      auto it = live_.find(start);
      if (it == live_.end()) break;
      Code moved = it->second;
      live_.erase(it);
      uintptr_t to = reinterpret_cast<uintptr_t>(e->new_code_start);
      erase_overlaps(to, to + moved.len);
      live_[to] = moved;
      break;
    }
    case v8::JitCodeEvent::CODE_REMOVED:
      live_.erase(start);
      break;
    default:
      break;
  }
}

// ---- CodeMap --------------------------------------------------------------------------------

CodeMap::CodeMap() {
  frames_.push_back({"(unknown)", kUnknown});
  frames_.push_back({"(garbage collector)", kGc});
  frames_.push_back({"(program)", kProgram});
  frames_.push_back({"(idle)", kIdle});
}

void CodeMap::Attach(v8::Isolate* isolate) {
  isolate_ = isolate;
  const void* start = nullptr;
  size_t len = 0;
  isolate->GetEmbeddedCodeRange(&start, &len);
  remap_lo_ = reinterpret_cast<uintptr_t>(start);
  remap_hi_ = remap_lo_ + len;
  CodeTracker* tracker = Lookup(isolate).tracker;
  if (tracker != nullptr) {
    // Register and seed under the tracker's mutex: events before this are in the seed, events
    // after it in the log, none in both or neither.
    std::lock_guard<std::mutex> hold(tracker->mu_);
    {
      std::lock_guard<std::mutex> lock(g_registry_mu);
      FindLocked(isolate)->map = this;
    }
    Seed(tracker);
    // No heap walk: the tracker enumerated existing code when tracking began and has applied
    // every event since, so the seed is the whole live code map, and the handler it installed
    // already routes events to this map. Enumerating again cost 12-18 ms per start under
    // Vitest (every code object of the heap, re-logged as CODE_ADDED over identical entries).
    return;
  }
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate);
    if (e == nullptr) g_registry.push_back({isolate, this, nullptr});
    else e->map = this;
  }
  // Untracked: enumerate existing code first, so functions compiled before start() get named
  // (on V8 >= 12 only bytecode and baseline code: optimized code needs trackCode()).
  isolate->SetJitCodeEventHandler(v8::kJitCodeEventEnumExisting, OnJitCodeEvent);
}

// Copies the tracker's entries only: their names stay in its NameTable until a sample needs
// one (FrameOf). Interning every live entry's name here cost ~0.6 µs per code object at each
// start (a Vitest worker holds ~20,000).
void CodeMap::Seed(CodeTracker* tracker) {
  std::lock_guard<std::mutex> lock(mu_);
  seed_names_ = tracker->names_;
  for (const auto& kv : tracker->live_) {
    const CodeTracker::Code& c = kv.second;
    // In address order into an empty map: each insert lands at the end.
    map_.emplace_hint(map_.end(), kv.first, Entry{c.len, c.name | kSeedName, c.code_type});
  }
  seeded_ = tracker->live_.size();
}

uint32_t CodeMap::FrameOf(uint32_t info) {
  if ((info & kSeedName) == 0 || !seed_names_) return info;
  uint32_t i = info & ~kSeedName;
  if (i < seed_ids_.size() && seed_ids_[i] != UINT32_MAX) return seed_ids_[i];
  std::string name;
  uint8_t kind = kUnknown;
  uint32_t id = seed_names_->Get(i, &name, &kind) ? Intern(name, kind) : kIdUnknown;
  if (i >= seed_ids_.size()) seed_ids_.resize(i + 1, UINT32_MAX);
  seed_ids_[i] = id;
  return id;
}

void CodeMap::Detach() {
  if (isolate_ == nullptr) return;
  bool tracked = false;
  {
    std::lock_guard<std::mutex> lock(g_registry_mu);
    IsolateCode* e = FindLocked(isolate_);
    if (e != nullptr) {
      e->map = nullptr;
      tracked = e->tracker != nullptr;
      if (!tracked) g_registry.erase(g_registry.begin() + (e - g_registry.data()));
    }
  }
  // A tracked isolate keeps the handler (the tracker follows events on).
  if (!tracked) isolate_->SetJitCodeEventHandler(v8::kJitCodeEventDefault, nullptr);
  isolate_ = nullptr;
}

uint32_t CodeMap::Intern(const std::string& name, uint8_t kind) {
  std::string key = name;
  key.push_back(static_cast<char>(kind + 1));
  auto it = interned_.find(key);
  if (it != interned_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(frames_.size());
  frames_.push_back({name, kind});
  interned_.emplace(std::move(key), id);
  return id;
}

void CodeMap::OnEvent(const v8::JitCodeEvent* e) {
  if (!Relevant(e)) return;
  std::lock_guard<std::mutex> lock(mu_);
  Event ev;
  ev.type = static_cast<uint8_t>(e->type);
  ev.code_type = static_cast<uint8_t>(e->code_type);
  ev.start = reinterpret_cast<uintptr_t>(e->code_start);
  ev.len_or_new = 0;
  ev.info = 0;
  if (e->type == v8::JitCodeEvent::CODE_ADDED) {
    std::string name(e->name.str, e->name.len);
    ev.info = Intern(name, KindOf(e, name));
    ev.len_or_new = e->code_len;
  } else if (e->type == v8::JitCodeEvent::CODE_MOVED) {
    ev.len_or_new = reinterpret_cast<uintptr_t>(e->new_code_start);
  }
  // A new epoch (see NextSeq): samples on either side of this event are never merged.
  ev.seq = seq_.fetch_add(kEventStep, std::memory_order_acq_rel);
  log_.push_back(ev);
  events_seen_++;
}

void CodeMap::ApplyUpTo(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  auto erase_overlaps = [&](uintptr_t lo, uintptr_t hi) {
    auto it = map_.lower_bound(lo);
    if (it != map_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second.len > lo) it = prev;
    }
    while (it != map_.end() && it->first < hi) it = map_.erase(it);
  };
  while (applied_ < log_.size() && log_[applied_].seq < seq) {
    const Event& ev = log_[applied_++];
    switch (ev.type) {
      case v8::JitCodeEvent::CODE_ADDED: {
        uintptr_t len = ev.len_or_new > 0 ? ev.len_or_new : 1;
        erase_overlaps(ev.start, ev.start + len);
        map_[ev.start] = Entry{len, ev.info, ev.code_type};
        break;
      }
      case v8::JitCodeEvent::CODE_MOVED: {
        auto it = map_.find(ev.start);
        if (it == map_.end()) break;
        Entry moved = it->second;
        map_.erase(it);
        erase_overlaps(ev.len_or_new, ev.len_or_new + moved.len);
        map_[ev.len_or_new] = moved;
        break;
      }
      case v8::JitCodeEvent::CODE_REMOVED:
        map_.erase(ev.start);
        break;
      default:
        break;
    }
  }
}

uint32_t CodeMap::LookAhead(uintptr_t pc) const {
  size_t end = log_.size();
  for (size_t i = applied_; i < end; i++) {
    const Event& ev = log_[i];
    if (ev.type == v8::JitCodeEvent::CODE_ADDED && pc >= ev.start && pc < ev.start + ev.len_or_new) return ev.info;
  }
  return kIdUnknown;
}

void CodeMap::Finish() { ApplyUpTo(UINT64_MAX); }

void CodeMap::CollectCodeStarts(std::unordered_set<uintptr_t>* starts, size_t* cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  // The seed (map_ changes only at stop(), in ApplyUpTo, after the consumer thread is joined).
  if (*cursor == 0) {
    for (const auto& kv : map_) starts->insert(kv.first);
  }
  // Cursor 0 means "nothing read yet"; positions are stored one past.
  for (size_t i = *cursor == 0 ? 0 : *cursor - 1; i < log_.size(); i++) {
    const Event& ev = log_[i];
    if (ev.type == v8::JitCodeEvent::CODE_ADDED) starts->insert(ev.start);
    if (ev.type == v8::JitCodeEvent::CODE_MOVED) starts->insert(ev.len_or_new);
  }
  *cursor = log_.size() + 1;
}

uint32_t CodeMap::BytecodeOf(uintptr_t tagged) {
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  if (!kL.verified || (tagged & 1) != 1) return kIdUnknown;
  // V8's BYTE_CODE event starts at the first bytecode, kL.bytecode_header bytes into the array.
  auto it = map_.find(tagged - 1 + static_cast<uintptr_t>(kL.bytecode_header));
  return it != map_.end() && it->second.code_type == v8::JitCodeEvent::BYTE_CODE ? FrameOf(it->second.info) : kIdUnknown;
}

const CodeMap::Entry* CodeMap::Find(uintptr_t pc, uintptr_t* start) const {
  auto it = map_.upper_bound(pc);
  if (it == map_.begin()) return nullptr;
  --it;
  if (pc >= it->first + it->second.len) return nullptr;
  if (start != nullptr) *start = it->first;
  return &it->second;
}

// Builtins are named from the executable's own symbol table (`Builtins_<Name>` labels of the
// embedded blob): V8 does not report them as code events on Node 20. Reading it maps and scans
// the whole executable's symbol table (~4 ms for node, page faults included), so it is read once
// per process, not per profile; each CodeMap interns a builtin's name when a sample needs it.
struct BuiltinTable {
  std::vector<uintptr_t> start, end;  // sorted by start
  std::vector<std::string> names;     // "(builtin) <Name>"
  uintptr_t blob_lo = 0, blob_hi = 0;  // the embedded blob in the executable
};

namespace {

BuiltinTable ReadBuiltins() {
  BuiltinTable t;
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return t;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(Elf64_Ehdr))) {
    close(fd);
    return t;
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* mem = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mem == MAP_FAILED) return t;
  const uint8_t* base = static_cast<const uint8_t*>(mem);
  const Elf64_Ehdr* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  std::vector<std::pair<uintptr_t, std::string>> syms;
  bool pie = eh->e_type == ET_DYN;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_shoff + uint64_t(eh->e_shnum) * sizeof(Elf64_Shdr) <= size) {
    const Elf64_Shdr* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const Elf64_Shdr& strs = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > size || strs.sh_offset + strs.sh_size > size) continue;
      const Elf64_Sym* sym = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
      size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
      const char* str = reinterpret_cast<const char*>(base + strs.sh_offset);
      for (size_t k = 0; k < n; k++) {
        if (sym[k].st_name >= strs.sh_size) continue;
        const char* name = str + sym[k].st_name;
        if (strncmp(name, "Builtins_", 9) == 0) syms.emplace_back(sym[k].st_value, name + 9);
        if (strcmp(name, "v8_Default_embedded_blob_code_") == 0) t.blob_lo = sym[k].st_value;
      }
    }
  }
  munmap(mem, size);
  uintptr_t load_bias = 0;
  if (pie) {
    // Position-independent executable: symbol values are relative to its load address, which
    // dl_iterate_phdr reports first.
    dl_iterate_phdr([](dl_phdr_info* info, size_t, void* out) -> int {
      *static_cast<uintptr_t*>(out) = info->dlpi_addr;
      return 1;
    }, &load_bias);
    t.blob_lo += load_bias;
  }
  std::sort(syms.begin(), syms.end());
  for (size_t i = 0; i < syms.size(); i++) {
    uintptr_t start = syms[i].first + load_bias;
    uintptr_t end = i + 1 < syms.size() ? syms[i + 1].first + load_bias : start + 64;
    if (end <= start) continue;
    t.start.push_back(start);
    t.end.push_back(end);
    t.names.push_back("(builtin) " + syms[i].second);
    if (t.blob_hi < end) t.blob_hi = end;
  }
  if (t.blob_lo == 0 && !t.start.empty()) t.blob_lo = t.start.front();
  return t;
}

}  // namespace

const BuiltinTable& ProcessBuiltins() {
  static const BuiltinTable table = ReadBuiltins();  // thread-safe initialization, once
  return table;
}

void CodeMap::LoadBuiltins() {
  builtins_loaded_ = true;
  builtins_ = &ProcessBuiltins();
  builtin_ids_.assign(builtins_->start.size(), UINT32_MAX);
  blob_lo_ = builtins_->blob_lo;
  blob_hi_ = builtins_->blob_hi;
  if (remap_lo_ == blob_lo_) remap_lo_ = remap_hi_ = 0;  // not remapped
  LoadRemaps();
}

// Node 20 maps the executable's embedded builtins a second time, near V8's code range, so JIT
// code can reach them with short calls. Code events name builtins at their address in the
// executable; pcs in the copy are translated back through /proc/self/maps: each r-x mapping
// of the executable has a file offset, and the first one fixes the file-offset → address bias.
void CodeMap::LoadRemaps() {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = 0;
  FILE* f = fopen("/proc/self/maps", "re");
  if (f == nullptr) return;
  struct Map {
    uintptr_t lo, hi, off;
  };
  std::vector<Map> maps;
  char line[8192];
  while (fgets(line, sizeof line, f) != nullptr) {
    unsigned long lo, hi, off;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &lo, &hi, perms, &off, &path_at) < 4 || path_at == 0) continue;
    if (perms[2] != 'x') continue;
    std::string path(line + path_at);
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
    if (path != exe) continue;
    maps.push_back({lo, hi, off});
  }
  fclose(f);
  if (maps.empty()) return;
  // The primary text mapping is the one with the lowest address (the executable's own load).
  uintptr_t bias = maps.front().lo - maps.front().off;
  for (const Map& m : maps) {
    if (m.lo - m.off != bias) remaps_.push_back({m.lo, m.hi, m.off + bias});
  }
}

uintptr_t CodeMap::Translate(uintptr_t pc) const {
  for (const Remap& r : remaps_) {
    if (pc >= r.lo && pc < r.hi) return pc - r.lo + r.to;
  }
  return pc;
}

uint32_t CodeMap::NameUnmapped(uintptr_t pc, bool fix_remap, bool* is_bytecode_handler) {
  *is_bytecode_handler = false;
  if (!builtins_loaded_) LoadBuiltins();
  uintptr_t p = pc;
  // V8 may run builtins from a copy of the embedded blob placed near its code range (short
  // builtin calls): translate back to the executable's addresses, where the names are.
  if (fix_remap && p >= remap_lo_ && p < remap_hi_) p = p - remap_lo_ + blob_lo_;
  const BuiltinTable& t = *builtins_;
  auto it = std::upper_bound(t.start.begin(), t.start.end(), p);
  if (it != t.start.begin()) {
    size_t i = static_cast<size_t>(it - t.start.begin()) - 1;
    if (p < t.end[i] && p < blob_hi_) {
      const std::string& name = t.names[i];
      size_t n = name.size();
      *is_bytecode_handler = n > 7 && name.compare(n - 7, 7, "Handler") == 0;
      if (builtin_ids_[i] == UINT32_MAX) builtin_ids_[i] = Intern(name, kBuiltin);
      return builtin_ids_[i];
    }
  }
  auto cached = native_names_.find(pc);
  if (cached != native_names_.end()) return cached->second;
  uint32_t id = kIdUnknown;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_fname != nullptr) {
    std::string name = "(native) ";
    if (info.dli_sname != nullptr) {
      int status = 0;
      char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
      if (status == 0 && demangled != nullptr) {
        // Drop the parameter list: "node::fs::Read(...)" reads better as "node::fs::Read".
        std::string d(demangled);
        size_t paren = d.find('(');
        name += paren != std::string::npos && paren > 0 ? d.substr(0, paren) : d;
      } else {
        name += info.dli_sname;
      }
      free(demangled);
    } else {
      const char* slash = strrchr(info.dli_fname, '/');
      name += slash != nullptr ? slash + 1 : info.dli_fname;
    }
    id = Intern(name, kNative);
  }
  native_names_.emplace(pc, id);
  return id;
}

namespace {

// "JS:*'hot url:1:2" → "hot url:1:2": the function, whatever its tier.
std::string FunctionKey(const std::string& name) {
  size_t colon = name.find(':');
  size_t i = colon == std::string::npos ? 0 : colon + 1;
  while (i < name.size() && (name[i] == '~' || name[i] == '^' || name[i] == '+' || name[i] == '*' || name[i] == '\'')) i++;
  return name.substr(i);
}

}  // namespace

bool CodeMap::SameFunction(const std::string& a, const std::string& b) const {
  return (StartsWith(a, "JS:") && StartsWith(b, "JS:")) ? FunctionKey(a) == FunctionKey(b) : a == b;
}

uint32_t CodeMap::TierVariant(uint32_t id, char marker) {
  const std::string& name = frames_[id].name;
  if (!StartsWith(name, "JS:~")) return id;
  std::string variant = "JS:";
  variant.push_back(marker);
  variant.append(name, 4, std::string::npos);
  std::string key = variant;
  key.push_back(static_cast<char>(kJs + 1));
  auto it = interned_.find(key);
  if (it != interned_.end()) return it->second;
  // Named by the tracker but not yet used here.
  uint32_t seeded;
  if (seed_names_ && seed_names_->Find(variant, &seeded)) {
    uint32_t found = FrameOf(seeded | kSeedName);
    if (found != kIdUnknown && frames_[found].kind == kJs) return found;
  }
  return id;
}

void CodeMap::AddSample(const RawSample& s, bool fix_leaf, bool fix_frameless, bool fix_remap) {
  ApplyUpTo(s.seq);
  scratch_.clear();
  if (!builtins_loaded_) LoadBuiltins();
  // s stands for s.count identical samples: every per-sample count below adds s.count.
  const uint64_t n = s.count;
  auto count_pc = [&](uintptr_t pc) {
    if (pc >= blob_lo_ && pc < blob_hi_) blob_pcs_ += n;
    if (Translate(pc) != pc) {
      remap_pcs_ += n;
      if (fix_remap) fixed_.remap += n;
    }
  };
  count_pc(s.pc);
  for (size_t i = 0; i < s.nframes; i++) count_pc(s.frames[i]);
  uintptr_t pc = fix_remap ? Translate(s.pc) : s.pc;
  std::lock_guard<std::mutex> lock(mu_);  // frames_/interned_ are shared with OnEvent

  // The first caller frame as V8 reported it (the interpreted frame of a bytecode handler).
  uintptr_t first_start = 0;
  const Entry* first = s.nframes > 0 ? Find(fix_remap ? Translate(s.frames[0]) : s.frames[0], &first_start) : nullptr;

  if (s.vm_state == v8::StateTag::GC) scratch_.push_back(kIdGc);
  // The leaf is frameless code running on its caller's frame: a bytecode handler (the frame is
  // the interpreted function's), or possibly a builtin called from Sparkplug code (the
  // `*_Baseline` builtins build no frame, so fp is still the baseline frame).
  bool in_handler = false;
  bool leaf_builtin = false;
  if (fix_leaf && s.vm_state != v8::StateTag::GC) {
    uintptr_t leaf_start = 0;
    const Entry* leaf = Find(pc, &leaf_start);
    if (leaf != nullptr) {
      const uint32_t leaf_id = FrameOf(leaf->info);
      const std::string& name = frames_[leaf_id].name;
      if (StartsWith(name, "BytecodeHandler:")) {
        // The interpreter running the interpreted frame below: not a frame of its own.
        in_handler = true;
      } else if (!(first != nullptr && leaf_start == first_start)) {
        // The executing code. An interpreted frame at frames[0] with the same bytecode is the
        // same activation (GetStackSample reports interpreted frames itself).
        scratch_.push_back(leaf_id);
        fixed_.leaf += n;
        leaf_builtin = frames_[leaf_id].kind == kBuiltin;
      }
    } else if (s.external != 0) {
      bool ignored;
      scratch_.push_back(NameUnmapped(s.external, fix_remap, &ignored));
      fixed_.leaf += n;
    } else {
      uint32_t id = NameUnmapped(pc, fix_remap, &in_handler);
      // A bytecode handler is the interpreter running the frame below: not a frame of its own.
      if (!in_handler && id != kIdUnknown) {
        scratch_.push_back(id);
        fixed_.leaf += n;
        leaf_builtin = frames_[id].kind == kBuiltin;
      }
    }
  }
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  if (kL.verified && fix_frameless && (in_handler || leaf_builtin) && (s.bytecode & 1) == 1) {
    // Recover the function whose interpreter or baseline frame fp is: its BytecodeArray (tagged)
    // has its first bytecode, where V8's BYTE_CODE event starts, exactly kL.bytecode_header
    // bytes in. The next slot holds, in an interpreter frame, the Smi offset (bytecode offset +
    // header - tag; -1 at the entry check), which must fall inside the bytecode; in a Sparkplug
    // frame a tagged heap object. These checks reject a stale slot (fp not at such a frame).
    uintptr_t first_bytecode = s.bytecode - 1 + static_cast<uintptr_t>(kL.bytecode_header);
    auto it = map_.find(first_bytecode);
    bool smi = (s.bc_offset & 0xffffffffu) == 0;
    bool baseline = !in_handler && (s.bc_offset & 1) == 1;
    int64_t offset = (static_cast<int64_t>(s.bc_offset) >> 32) - (kL.bytecode_header - 1);
    bool slot_ok = baseline || (smi && offset >= -1 && offset < static_cast<int64_t>(it == map_.end() ? 0 : it->second.len));
    if (it != map_.end() && it->second.code_type == v8::JitCodeEvent::BYTE_CODE && slot_ok) {
      // Ids first: FrameOf may grow frames_, so no reference into it is held across a call.
      uint32_t id = FrameOf(it->second.info);
      uint32_t first_id = first != nullptr ? FrameOf(first->info) : kIdUnknown;
      if (!(first != nullptr && SameFunction(frames_[first_id].name, frames_[id].name))) {
        // A baseline frame runs the function's Sparkplug code: name it so when V8 reported it.
        if (baseline) id = TierVariant(id, '^');
        scratch_.push_back(id);
        fixed_.frameless += n;
      }
    }
  }
  for (size_t i = 0; i < s.nframes; i++) {
    uintptr_t frame = fix_remap ? Translate(s.frames[i]) : s.frames[i];
    const Entry* e = Find(frame, nullptr);
    if (e != nullptr) {
      scratch_.push_back(FrameOf(e->info));
      continue;
    }
    bool ignored;
    uint32_t id = NameUnmapped(frame, fix_remap, &ignored);
    // A function being compiled when the sample hit (vm state COMPILER, lazy compilation):
    // its frame already points into bytecode whose CODE_ADDED comes just after the sample.
    if (id == kIdUnknown) id = LookAhead(frame);
    if (id == kIdUnknown) {
      // An interpreted frame at function entry: V8 reports bytecode offset -1 (the entry stack
      // check), an address just before the first bytecode.
      auto next = map_.upper_bound(frame);
      if (next != map_.end() && next->second.code_type == v8::JitCodeEvent::BYTE_CODE && next->first - frame <= 64) {
        id = FrameOf(next->second.info);
      }
    }
    if (id == kIdUnknown && i == 0 && fix_frameless) {
      // The innermost JS frame at a pc V8 derived from garbage (V8 13.6: an interpreter frame
      // before its offset slot is written; a frame under an INTERNAL frame with no return
      // address; see kRecOwnerBytecode): the BytecodeArray slot of the frame the signal handler
      // matched to this pc names it, if it is exactly a header before a BYTE_CODE entry.
      id = BytecodeOf(s.owner_bytecode);
      if (id != kIdUnknown && !scratch_.empty() && scratch_.back() == id) continue;  // the frameless fix named it
      if (id != kIdUnknown) fixed_.frameless += n;
    }
    if (id == kIdUnknown && i == 0 && s.vm_state >= v8::StateTag::PARSER && s.vm_state <= v8::StateTag::COMPILER) {
      // The function being compiled lazily: its frame exists, its code does not yet.
      id = Intern("(compile)", kNative);
    }
    if (id == kIdUnknown && (frame & 0xffffffffu) == 0) continue;  // a Smi read from a half-built frame
    if (id == kIdUnknown) {
      unresolved_ += n;
      if (getenv("PERFPROFILE_DEBUG_UNKNOWN") != nullptr && unresolved_ < 20) {
        fprintf(stderr, "unknown frame %zu/%zu pc=%lx leafpc=%lx vm=%d blob=[%lx,%lx) remap=[%lx,%lx)\n", i, s.nframes,
                static_cast<unsigned long>(s.frames[i]), static_cast<unsigned long>(s.pc), s.vm_state,
                static_cast<unsigned long>(blob_lo_), static_cast<unsigned long>(blob_hi_),
                static_cast<unsigned long>(remap_lo_), static_cast<unsigned long>(remap_hi_));
      }
    }
    scratch_.push_back(id);
  }
  if (scratch_.empty()) {
    if (s.vm_state == v8::StateTag::IDLE) scratch_.push_back(kIdIdle);
    else scratch_.push_back(kIdProgram);
  }
  uint64_t truncated = s.total - s.nframes;
  if (scratch_.size() > s.depth) {
    truncated += scratch_.size() - s.depth;
    scratch_.resize(s.depth);
  }
  key_.clear();
  auto put = [&](uint32_t v) { key_.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(static_cast<uint32_t>(s.vm_state));
  put(static_cast<uint32_t>(truncated));
  for (uint32_t id : scratch_) put(id);
  FoldedStack& f = stacks_[key_];
  if (f.values.empty()) f.values.assign(s.nvalues, 0);
  f.count += n;
  for (size_t i = 0; i < s.nvalues; i++) f.values[i] += static_cast<double>(s.values[i]);
}

}  // namespace perfprofile
