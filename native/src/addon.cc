// The binding: registers the exports that index.d.ts declares.
#include <napi.h>

#include "js_api.h"
#include "signal_handler.h"

namespace perfprofile {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Sampler", SamplerClass(env));
  exports.Set("Counters", CountersClass(env));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("probeTimer", Napi::Function::New(env, ProbeTimerJs));
  exports.Set("threadCpuNs", Napi::Function::New(env, ThreadCpuNs));
  exports.Set("signal", Napi::Number::New(env, SampleSignal()));
  exports.Set("trackCode", Napi::Function::New(env, TrackCode));
  exports.Set("trackingCode", Napi::Function::New(env, TrackingCode));
  exports.Set("isolateAddress", Napi::Function::New(env, IsolateAddress));
  exports.Set("scriptLines", Napi::Function::New(env, ScriptLines));
  exports.Set("frameLayout", FrameLayout(env));
  exports.Set("frameKinds", FrameKindNames(env));
  exports.Set("vmStates", VmStateNames(env));
  return exports;
}

}  // namespace perfprofile

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  return perfprofile::Init(env, exports);
}

NODE_API_MODULE(perfprofile_native, InitModule)
