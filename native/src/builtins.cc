// Builtins from the executable's symbol table, and where V8 runs them from (see builtins.h).
#include "builtins.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace perfprofile {

namespace {

// V8 does not report builtins as code events on Node 20: they are named from the executable's
// symbol table. Reading it maps and scans the whole table (milliseconds for node,
// docs/PERFORMANCE.md), so it is read once per process, not per profile.
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
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
      eh->e_shoff + uint64_t(eh->e_shnum) * sizeof(Elf64_Shdr) <= size) {
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
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) -> int {
          *static_cast<uintptr_t*>(out) = info->dlpi_addr;
          return 1;
        },
        &load_bias);
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

void Builtins::SetEmbeddedRange(uintptr_t lo, uintptr_t hi) {
  embedded_lo_ = lo;
  embedded_hi_ = hi;
}

void Builtins::Load() {
  table_ = &ProcessBuiltins();
  ids_.assign(table_->start.size(), UINT32_MAX);
  blob_lo_ = table_->blob_lo;
  blob_hi_ = table_->blob_hi;
  if (embedded_lo_ == blob_lo_) embedded_lo_ = embedded_hi_ = 0;  // not remapped
  LoadRemaps();
}

// Node 20 maps the executable's embedded builtins a second time, near V8's code range, so JIT
// code can reach them with short calls. Code events name builtins at their address in the
// executable; pcs in the copy are translated back through /proc/self/maps: each r-x mapping
// of the executable has a file offset, and the first one fixes the file-offset → address bias.
std::vector<TextRemap> ExecutableRemaps() {
  std::vector<TextRemap> remaps;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return remaps;
  exe[n] = 0;
  FILE* f = fopen("/proc/self/maps", "re");
  if (f == nullptr) return remaps;
  struct Map {
    uintptr_t lo, hi, off;
  };
  std::vector<Map> maps;
  char line[8192];
  while (fgets(line, sizeof line, f) != nullptr) {
    unsigned long lo, hi, off;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &lo, &hi, perms, &off, &path_at) < 4 || path_at == 0)
      continue;
    if (perms[2] != 'x') continue;
    std::string path(line + path_at);
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
    if (path != exe) continue;
    maps.push_back({lo, hi, off});
  }
  fclose(f);
  if (maps.empty()) return remaps;
  // The primary text mapping is the one with the lowest address (the executable's own load).
  uintptr_t bias = maps.front().lo - maps.front().off;
  for (const Map& m : maps) {
    if (m.lo - m.off != bias) remaps.push_back({m.lo, m.hi, m.off + bias});
  }
  return remaps;
}

void Builtins::LoadRemaps() { remaps_ = ExecutableRemaps(); }

uintptr_t Builtins::Translate(uintptr_t pc) const {
  for (const TextRemap& r : remaps_) {
    if (pc >= r.lo && pc < r.hi) return pc - r.lo + r.to;
  }
  return pc;
}

bool Builtins::Name(uintptr_t pc, bool fix_remap, FrameTable* frames, uint32_t* id, bool* bytecode_handler) {
  // V8 may run builtins from a copy of the embedded blob placed near its code range (short
  // builtin calls): translate back to the executable's addresses, where the names are.
  if (fix_remap && pc >= embedded_lo_ && pc < embedded_hi_) pc = pc - embedded_lo_ + blob_lo_;
  const BuiltinTable& t = *table_;
  auto it = std::upper_bound(t.start.begin(), t.start.end(), pc);
  if (it == t.start.begin()) return false;
  size_t i = static_cast<size_t>(it - t.start.begin()) - 1;
  if (pc >= t.end[i] || pc >= blob_hi_) return false;
  const std::string& name = t.names[i];
  size_t n = name.size();
  *bytecode_handler = n > 7 && name.compare(n - 7, 7, "Handler") == 0;
  if (ids_[i] == UINT32_MAX) ids_[i] = frames->Intern(name, kBuiltin);
  *id = ids_[i];
  return true;
}

}  // namespace perfprofile
