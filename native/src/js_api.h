// What addon.cc registers, and the conversions from JS values they share.
// node-addon-api; raw V8 API only where Node-API cannot reach (GetStackSample,
// SetJitCodeEventHandler).
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "trigger.h"

namespace perfprofile {

class Sampler;

/** The `Sampler` class (js_sampler.cc). */
Napi::Function SamplerClass(Napi::Env env);
/** A stopped sampler's profile as index.d.ts's RawProfile (js_profile.cc). */
Napi::Object ProfileToJs(Napi::Env env, Sampler& sampler);

// The rest of the binding (js_functions.cc).
Napi::Function CountersClass(Napi::Env env);
Napi::Value Probe(const Napi::CallbackInfo& info);
Napi::Value ProbeTimerJs(const Napi::CallbackInfo& info);
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info);
Napi::Value TrackCode(const Napi::CallbackInfo& info);
Napi::Value TrackingCode(const Napi::CallbackInfo& info);
Napi::Value IsolateAddress(const Napi::CallbackInfo& info);
Napi::Value ScriptLines(const Napi::CallbackInfo& info);
Napi::Object FrameLayout(Napi::Env env);
/** The names of the numbers the binding reports: frame kinds and V8 VM states. */
Napi::Array FrameKindNames(Napi::Env env);
Napi::Array VmStateNames(Napi::Env env);

inline Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  return e;
}

inline uint64_t ToU64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

/** index.d.ts's PerfEventSel[]. */
inline std::vector<PerfEventSpec> ReadEvents(const Napi::Value& v) {
  std::vector<PerfEventSpec> out;
  if (!v.IsArray()) return out;
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object e = arr.Get(i).As<Napi::Object>();
    out.push_back(
        {static_cast<uint32_t>(e.Get("type").As<Napi::Number>().Uint32Value()), ToU64(e.Get("config"))});
  }
  return out;
}

}  // namespace perfprofile
