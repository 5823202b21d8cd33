// Native code named by dladdr and demangled (see native_symbols.h).
#include "native_symbols.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace perfprofile {

uint32_t NativeSymbols::Name(uintptr_t pc, FrameTable* frames) {
  auto cached = ids_.find(pc);
  if (cached != ids_.end()) return cached->second;
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
    id = frames->Intern(name, kNative);
  }
  ids_.emplace(pc, id);
  return id;
}

}  // namespace perfprofile
