// Interpreter-frame slots: V8 facts V8 does not export, per V8 version, gated at compile time.
// Checked on this machine; the addon is built per Node ABI, so V8_MAJOR/MINOR_VERSION are
// those of the Node it runs in.
#pragma once

#include <v8-version.h>

#include <cstdint>

namespace perfprofile {

/**
 * Where an interpreter (Ignition) frame keeps its BytecodeArray and bytecode offset, relative to
 * fp, for the frameless fix. Sparkplug (baseline) frames share the layout, with a feedback
 * object (tagged) in the offset slot: measured on all three versions. Checked on this machine
 * per V8 version, against the code map (the slot must point exactly `bytecode_header` bytes
 * before a BYTE_CODE entry, the offset must fall inside it):
 *   V8 11.3 (Node 20): BytecodeArray at fp-32, Smi offset at fp-40, first bytecode at +54
 *   V8 12.4 (Node 22): same slots, first bytecode at +64
 *   V8 13.6 (Node 24): as 12.4
 * Node builds V8 without pointer compression and without the sandbox: slots hold full pointers
 * and Smis in the upper 32 bits. Any other V8 (or those options) leaves the fix off rather than
 * read a guessed slot; `frameLayout.verified` in the binding says which case this build is.
 */
struct InterpreterFrameLayout {
  bool verified;
  int bytecode_array_from_fp;   // tagged BytecodeArray
  int bytecode_offset_from_fp;  // Smi: bytecode offset + header - heap object tag
  int bytecode_header;          // bytes from the (untagged) BytecodeArray to its first bytecode
};

#if defined(V8_COMPRESS_POINTERS) || defined(V8_ENABLE_SANDBOX)
constexpr InterpreterFrameLayout kInterpreterFrame{false, 0, 0, 0};
#elif V8_MAJOR_VERSION == 11 && V8_MINOR_VERSION == 3
constexpr InterpreterFrameLayout kInterpreterFrame{true, -32, -40, 54};
#elif (V8_MAJOR_VERSION == 12 && V8_MINOR_VERSION == 4) || (V8_MAJOR_VERSION == 13 && V8_MINOR_VERSION == 6)
constexpr InterpreterFrameLayout kInterpreterFrame{true, -32, -40, 64};
#else
constexpr InterpreterFrameLayout kInterpreterFrame{false, 0, 0, 0};
#endif

/**
 * Where V8's BYTE_CODE event for a tagged BytecodeArray pointer starts: at its first bytecode,
 * kInterpreterFrame.bytecode_header bytes into the (untagged) array.
 */
constexpr uintptr_t FirstBytecode(uintptr_t tagged_bytecode_array) {
  return tagged_bytecode_array - 1 + static_cast<uintptr_t>(kInterpreterFrame.bytecode_header);
}

}  // namespace perfprofile
