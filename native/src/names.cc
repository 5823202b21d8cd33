// Frame kinds and names (see names.h).
#include "names.h"

namespace perfprofile {

namespace {

std::string Key(const std::string& name, uint8_t kind) {
  std::string key = name;
  key.push_back(static_cast<char>(kind + 1));
  return key;
}

}  // namespace

FrameTable::FrameTable() {
  frames_.push_back({"(unknown)", kUnknown, kIdUnknown, {}});
  frames_.push_back({"(garbage collector)", kGc, kIdGc, {}});
  frames_.push_back({"(program)", kProgram, kIdProgram, {}});
  frames_.push_back({"(idle)", kIdle, kIdIdle, {}});
}

uint32_t FrameTable::Intern(const std::string& name, uint8_t kind) {
  std::string key = Key(name, kind);
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(frames_.size());
  frames_.push_back({name, kind, id, {}});
  ids_.emplace(std::move(key), id);
  return id;
}

uint32_t FrameTable::InternAt(uint32_t function, const CodeAt& at) {
  if (at.origin == 0) return function;
  AtKey key{function, at.offset, at.origin, at.size};
  auto it = at_ids_.find(key);
  if (it != at_ids_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(frames_.size());
  // Copied first: push_back may reallocate frames_.
  FrameInfo f{frames_[function].name, frames_[function].kind, function, at};
  frames_.push_back(std::move(f));
  at_ids_.emplace(key, id);
  return id;
}

bool FrameTable::FindAt(uint32_t function, const CodeAt& at, uint32_t* id) const {
  auto it = at_ids_.find(AtKey{function, at.offset, at.origin, at.size});
  if (it == at_ids_.end()) return false;
  *id = it->second;
  return true;
}

bool FrameTable::Find(const std::string& name, uint8_t kind, uint32_t* id) const {
  auto it = ids_.find(Key(name, kind));
  if (it == ids_.end()) return false;
  *id = it->second;
  return true;
}

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

// V8 names: "JS:~fn url:line:col" style for functions (tier marker after the tag), bare
// builtin / stub names otherwise.
uint8_t CodeKind(bool bytecode, const std::string& name) {
  if (bytecode) return kJs;
  if (StartsWith(name, "JS:") || StartsWith(name, "Function:") || StartsWith(name, "LazyCompile:") ||
      StartsWith(name, "Script:") || StartsWith(name, "Eval:")) {
    return kJs;
  }
  return kBuiltin;
}

std::string FunctionKeyOf(const std::string& name) {
  size_t colon = name.find(':');
  size_t i = colon == std::string::npos ? 0 : colon + 1;
  while (i < name.size() &&
         (name[i] == '~' || name[i] == '^' || name[i] == '+' || name[i] == '*' || name[i] == '\''))
    i++;
  return name.substr(i);
}

bool SameFunction(const std::string& a, const std::string& b) {
  return (StartsWith(a, "JS:") && StartsWith(b, "JS:")) ? FunctionKeyOf(a) == FunctionKeyOf(b) : a == b;
}

}  // namespace perfprofile
