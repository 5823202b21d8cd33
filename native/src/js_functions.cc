// The binding beside the Sampler: Counters, probes, CPU time, code tracking, build facts.
// Build facts: the interpreter-frame layout compiled in, and the names of the numbers the
// binding reports (frame kinds, VM states).
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <string>

#include "code_tracker.h"
#include "counters.h"
#include "interpreter_frame.h"
#include "js_api.h"
#include "names.h"
#include "scripts.h"

namespace perfprofile {

namespace {

class CountersWrap : public Napi::ObjectWrap<CountersWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "Counters",
        {InstanceMethod<&CountersWrap::Start>("start"), InstanceMethod<&CountersWrap::Stop>("stop")});
  }
  explicit CountersWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<CountersWrap>(info), counters_(ReadEvents(info[0])) {}

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    std::string what;
    int err = counters_.Start(&what);
    if (err != 0) throw ErrnoError(info.Env(), err, what);
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    std::vector<double> v = counters_.Stop();
    Napi::Array out = Napi::Array::New(info.Env(), v.size());
    for (size_t i = 0; i < v.size(); i++) out.Set(static_cast<uint32_t>(i), v[i]);
    return out;
  }
  Counters counters_;
};

void UntrackOnTeardown(void* isolate) { CodeTracker::Untrack(static_cast<v8::Isolate*>(isolate)); }

// v8::StateTag names, by value: RawStack.vmState indexes `vmStates`.
constexpr const char* kVmStateNames[] = {
    "JS", "GC", "PARSER", "BYTECODE_COMPILER", "COMPILER", "OTHER", "EXTERNAL", "ATOMICS_WAIT", "IDLE"};
static_assert(v8::StateTag::JS == 0 && v8::StateTag::GC == 1 && v8::StateTag::PARSER == 2 &&
                  v8::StateTag::BYTECODE_COMPILER == 3 && v8::StateTag::COMPILER == 4 &&
                  v8::StateTag::OTHER == 5 && v8::StateTag::EXTERNAL == 6 &&
                  v8::StateTag::ATOMICS_WAIT == 7 && v8::StateTag::IDLE == 8,
              "kVmStateNames follows v8::StateTag");

template <size_t N>
Napi::Array Names(Napi::Env env, const char* const (&names)[N]) {
  Napi::Array out = Napi::Array::New(env, N);
  for (size_t i = 0; i < N; i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  return out;
}

}  // namespace

Napi::Function CountersClass(Napi::Env env) { return CountersWrap::Init(env); }

Napi::Value Probe(const Napi::CallbackInfo& info) {
  PerfEventSpec e{info[0].As<Napi::Number>().Uint32Value(), ToU64(info[1])};
  bool kernel = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  int precise = info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  return Napi::Number::New(info.Env(), ProbePerfEvent(e, kernel, precise));
}

Napi::Value ProbeTimerJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ProbeTimer());
}

// CPU time of the calling thread, in ns: the ground truth the CPU-time sources are checked
// against (wall time also counts the time other processes hold the core).
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return Napi::BigInt::New(
      info.Env(), static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec));
}

// Starts following this thread's code events (see CodeTracker): call it before the code to be
// profiled is optimized (a benchmark's warm-up), so a sampler started later can name it.
Napi::Value TrackCode(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (!CodeTracker::Tracking(isolate)) {
    CodeTracker::Track(isolate);
    napi_add_env_cleanup_hook(info.Env(), UntrackOnTeardown, isolate);
  }
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Value TrackingCode(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), CodeTracker::Tracking(v8::Isolate::GetCurrent()));
}

// The calling thread's isolate as V8 prints it in per-isolate log file names
// (`isolate-0x…-<pid>-v8.log`), so core can read this thread's code log.
Napi::Value IsolateAddress(const Napi::CallbackInfo& info) {
  char text[2 + 2 * sizeof(uintptr_t) + 1];
  snprintf(text, sizeof text, "0x%" PRIxPTR, reinterpret_cast<uintptr_t>(v8::Isolate::GetCurrent()));
  return Napi::String::New(info.Env(), text);
}

namespace {

std::string Utf8(v8::Isolate* isolate, v8::Local<v8::Value> v) {
  if (v.IsEmpty() || !v->IsString()) return {};
  v8::String::Utf8Value text(isolate, v);
  return *text != nullptr ? std::string(*text, text.length()) : std::string();
}

}  // namespace

// Lines of a tracked isolate's script, by V8's script id, for the code log's script offsets.
Napi::Value ScriptLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "scriptLines(id: number, offsets: Int32Array)");
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::HandleScope scope(isolate);
  v8::Local<v8::UnboundScript> script = FindScript(isolate, info[0].As<Napi::Number>().Int32Value());
  if (script.IsEmpty()) return env.Undefined();
  Napi::Int32Array offsets = info[1].As<Napi::Int32Array>();
  Napi::Int32Array lines = Napi::Int32Array::New(env, 2 * offsets.ElementLength());
  for (size_t i = 0; i < offsets.ElementLength(); i++) {
    int32_t pos = offsets[i];
    int line = pos >= 0 ? script->GetLineNumber(pos) : -1;
    // A first-line column may be negative (a script compiled with a negative column offset).
    lines[2 * i] = line >= 0 ? line + 1 : 0;
    lines[2 * i + 1] = line >= 0 ? script->GetColumnNumber(pos) + 1 : 0;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", Napi::String::New(env, Utf8(isolate, script->GetScriptName())));
  out.Set("sourceUrl", Napi::String::New(env, Utf8(isolate, script->GetSourceURL())));
  out.Set("lines", lines);
  return out;
}

Napi::Object FrameLayout(Napi::Env env) {
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  Napi::Object o = Napi::Object::New(env);
  o.Set("v8",
        Napi::String::New(env, std::to_string(V8_MAJOR_VERSION) + "." + std::to_string(V8_MINOR_VERSION)));
  o.Set("verified", Napi::Boolean::New(env, kL.verified));
  o.Set("bytecodeArrayFromFp", Napi::Number::New(env, kL.bytecode_array_from_fp));
  o.Set("bytecodeOffsetFromFp", Napi::Number::New(env, kL.bytecode_offset_from_fp));
  o.Set("bytecodeHeader", Napi::Number::New(env, kL.bytecode_header));
  return o;
}

Napi::Array FrameKindNames(Napi::Env env) { return Names(env, kFrameKindNames); }

Napi::Array VmStateNames(Napi::Env env) { return Names(env, kVmStateNames); }

}  // namespace perfprofile
