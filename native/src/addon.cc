// The JS surface (node-addon-api): Sampler, Counters, probe functions. Raw V8 API is used only
// where Node-API cannot reach (GetStackSample, SetJitCodeEventHandler, in trigger/codemap).
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <set>
#include <string>

#include "code_tracker.h"
#include "counters.h"
#include "interpreter_frame.h"
#include "sampler.h"
#include "signal_handler.h"

namespace perfprofile {

namespace {

// Threads (isolates) with a running sampler: a second one on the same thread is an error,
// other threads are independent.
std::mutex g_running_mu;
std::set<v8::Isolate*> g_running;

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  return e;
}

uint64_t ToU64(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

std::vector<PerfEventSpec> ReadEvents(const Napi::Value& v) {
  std::vector<PerfEventSpec> out;
  if (!v.IsArray()) return out;
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object e = arr.Get(i).As<Napi::Object>();
    out.push_back({static_cast<uint32_t>(e.Get("type").As<Napi::Number>().Uint32Value()), ToU64(e.Get("config"))});
  }
  return out;
}

bool BoolOr(const Napi::Object& o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

double NumberOr(const Napi::Object& o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

}  // namespace

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Sampler",
                       {InstanceMethod<&SamplerWrap::Start>("start"), InstanceMethod<&SamplerWrap::Stop>("stop"),
                        InstanceMethod<&SamplerWrap::Samples>("samples"), InstanceMethod<&SamplerWrap::Lost>("lost")});
  }

  explicit SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
    Napi::Object o = info[0].As<Napi::Object>();
    SamplerOptions opt;
    opt.timer = BoolOr(o, "timer", false);
    opt.events = ReadEvents(o.Get("events"));
    opt.period = static_cast<uint64_t>(NumberOr(o, "period", 1e6));
    if (opt.period == 0) opt.period = 1;
    opt.kernel = BoolOr(o, "kernel", false);
    opt.precise = static_cast<int>(NumberOr(o, "precise", 0));
    opt.depth = static_cast<uint32_t>(NumberOr(o, "depth", 128));
    if (opt.depth == 0) opt.depth = 1;
    opt.ring_bytes = static_cast<size_t>(NumberOr(o, "ringBytes", 8.0 * 1024 * 1024));
    if (opt.ring_bytes < 4096) opt.ring_bytes = 4096;
    Napi::Value progress = o.Get("progressPath");
    if (progress.IsString()) opt.progress_path = progress.As<Napi::String>().Utf8Value();
    Napi::Value fixes = o.Get("fixes");
    if (fixes.IsObject()) {
      Napi::Object f = fixes.As<Napi::Object>();
      opt.fixes.leaf = BoolOr(f, "leaf", true);
      opt.fixes.frameless = BoolOr(f, "frameless", true);
      opt.fixes.remap = BoolOr(f, "remap", true);
    }
    isolate_ = v8::Isolate::GetCurrent();
    sampler_ = std::make_unique<Sampler>(isolate_, std::move(opt));
    // A Worker that exits while sampling: stop before its isolate goes away.
    env_ = info.Env();
    napi_add_env_cleanup_hook(env_, &SamplerWrap::Cleanup, this);
  }

  ~SamplerWrap() override {
    napi_remove_env_cleanup_hook(env_, &SamplerWrap::Cleanup, this);
    Release();
  }

 private:
  static void Cleanup(void* arg) { static_cast<SamplerWrap*>(arg)->Release(); }

  void Release() {
    if (sampler_ && sampler_->running()) sampler_->Stop();
    Unregister();
  }

  void Unregister() {
    if (!registered_) return;
    std::lock_guard<std::mutex> lock(g_running_mu);
    g_running.erase(isolate_);
    registered_ = false;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (used_) {
      Napi::Error e = Napi::Error::New(env, "this sampler was already started; create a new one");
      e.Set("code", Napi::String::New(env, "ERR_PROFILE_STATE"));
      throw e;
    }
    {
      std::lock_guard<std::mutex> lock(g_running_mu);
      if (!g_running.insert(isolate_).second) {
        Napi::Error e = Napi::Error::New(env, "a native profile is already running on this thread");
        e.Set("code", Napi::String::New(env, "ERR_PROFILE_RUNNING"));
        throw e;
      }
      registered_ = true;
    }
    used_ = true;
    std::string what;
    int err = sampler_->Start(&what);
    if (err != 0) {
      Unregister();
      throw ErrnoError(env, err, what);
    }
    return env.Undefined();
  }

  Napi::Value Samples(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(sampler_->samples()));
  }

  Napi::Value Lost(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(sampler_->lost()));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (sampler_->running()) sampler_->Stop();
    Unregister();
    CodeMap& map = sampler_->codemap();
    const auto& all = map.frames();
    // Only the frames the stacks use, renumbered.
    std::vector<int64_t> remap(all.size(), -1);
    Napi::Array frames = Napi::Array::New(env);
    Napi::Array stacks = Napi::Array::New(env);
    uint32_t nframes = 0, nstacks = 0;
    for (const auto& kv : map.stacks()) {
      const std::string& key = kv.first;
      const uint32_t* w = reinterpret_cast<const uint32_t*>(key.data());
      size_t n = key.size() / sizeof(uint32_t);
      Napi::Object st = Napi::Object::New(env);
      st.Set("vmState", Napi::Number::New(env, w[0]));
      st.Set("truncated", Napi::Number::New(env, w[1]));
      Napi::Array ids = Napi::Array::New(env, n - 2);
      for (size_t i = 2; i < n; i++) {
        uint32_t id = w[i];
        if (remap[id] < 0) {
          remap[id] = nframes;
          Napi::Array f = Napi::Array::New(env, 2);
          f.Set(0u, Napi::String::New(env, all[id].name));
          f.Set(1u, Napi::Number::New(env, all[id].kind));
          frames.Set(nframes++, f);
        }
        ids.Set(static_cast<uint32_t>(i - 2), Napi::Number::New(env, static_cast<double>(remap[id])));
      }
      st.Set("frames", ids);
      st.Set("count", Napi::Number::New(env, static_cast<double>(kv.second.count)));
      Napi::Array values = Napi::Array::New(env, kv.second.values.size());
      for (size_t i = 0; i < kv.second.values.size(); i++) values.Set(static_cast<uint32_t>(i), kv.second.values[i]);
      st.Set("values", values);
      stacks.Set(nstacks++, st);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("frames", frames);
    out.Set("stacks", stacks);
    out.Set("samples", Napi::Number::New(env, static_cast<double>(sampler_->samples())));
    out.Set("lost", Napi::Number::New(env, static_cast<double>(sampler_->lost())));
    out.Set("unresolved", Napi::Number::New(env, static_cast<double>(map.unresolved())));
    out.Set("blobPcs", Napi::Number::New(env, static_cast<double>(map.blob_pcs())));
    out.Set("remapPcs", Napi::Number::New(env, static_cast<double>(map.remap_pcs())));
    out.Set("codeEvents", Napi::Number::New(env, static_cast<double>(map.code_events())));
    out.Set("seededCode", Napi::Number::New(env, static_cast<double>(map.seeded())));
    out.Set("rawStacks", Napi::Number::New(env, static_cast<double>(sampler_->aggregates())));
    Napi::Object fixed = Napi::Object::New(env);
    fixed.Set("leaf", Napi::Number::New(env, static_cast<double>(map.fixed().leaf)));
    fixed.Set("frameless", Napi::Number::New(env, static_cast<double>(map.fixed().frameless)));
    fixed.Set("remap", Napi::Number::New(env, static_cast<double>(map.fixed().remap)));
    out.Set("fixed", fixed);
    out.Set("startNs", Napi::Number::New(env, static_cast<double>(sampler_->start_ns())));
    out.Set("stopNs", Napi::Number::New(env, static_cast<double>(sampler_->stop_ns())));
    return out;
  }

  std::unique_ptr<Sampler> sampler_;
  v8::Isolate* isolate_ = nullptr;
  napi_env env_ = nullptr;
  bool registered_ = false;
  bool used_ = false;
};

class CountersWrap : public Napi::ObjectWrap<CountersWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Counters", {InstanceMethod<&CountersWrap::Start>("start"), InstanceMethod<&CountersWrap::Stop>("stop")});
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

Napi::Value Probe(const Napi::CallbackInfo& info) {
  PerfEventSpec e{info[0].As<Napi::Number>().Uint32Value(), ToU64(info[1])};
  bool kernel = info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  int precise = info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  return Napi::Number::New(info.Env(), ProbePerfEvent(e, kernel, precise));
}

// CPU time of the calling thread, in ns: the ground truth the CPU-time sources are checked
// against (wall time also counts the time other processes hold the core).
Napi::Value ThreadCpuNs(const Napi::CallbackInfo& info) {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec));
}

Napi::Value ProbeTimerJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ProbeTimer()); }

void UntrackOnTeardown(void* isolate) { CodeTracker::Untrack(static_cast<v8::Isolate*>(isolate)); }

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

Napi::Object FrameLayout(Napi::Env env) {
  constexpr InterpreterFrameLayout kL = kInterpreterFrame;
  Napi::Object o = Napi::Object::New(env);
  o.Set("v8", Napi::String::New(env, std::to_string(V8_MAJOR_VERSION) + "." + std::to_string(V8_MINOR_VERSION)));
  o.Set("verified", Napi::Boolean::New(env, kL.verified));
  o.Set("bytecodeArrayFromFp", Napi::Number::New(env, kL.bytecode_array_from_fp));
  o.Set("bytecodeOffsetFromFp", Napi::Number::New(env, kL.bytecode_offset_from_fp));
  o.Set("bytecodeHeader", Napi::Number::New(env, kL.bytecode_header));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Sampler", SamplerWrap::Init(env));
  exports.Set("Counters", CountersWrap::Init(env));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("probeTimer", Napi::Function::New(env, ProbeTimerJs));
  exports.Set("threadCpuNs", Napi::Function::New(env, ThreadCpuNs));
  exports.Set("signal", Napi::Number::New(env, SampleSignal()));
  exports.Set("trackCode", Napi::Function::New(env, TrackCode));
  exports.Set("trackingCode", Napi::Function::New(env, TrackingCode));
  exports.Set("frameLayout", FrameLayout(env));
  return exports;
}

}  // namespace perfprofile

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return perfprofile::Init(env, exports); }

NODE_API_MODULE(perfprofile_native, InitModule)
