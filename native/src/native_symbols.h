// Native code named by dladdr, demangled and without its parameter list: "(native) node::fs::Read".
#pragma once

#include <cstdint>
#include <unordered_map>

#include "names.h"

namespace perfprofile {

class NativeSymbols {
 public:
  /** The frame id of the native code at pc (cached per pc); kIdUnknown when no loaded object holds it. */
  uint32_t Name(uintptr_t pc, FrameTable* frames);

 private:
  std::unordered_map<uintptr_t, uint32_t> ids_;
};

}  // namespace perfprofile
