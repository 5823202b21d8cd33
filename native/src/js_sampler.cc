// The JS `Sampler` class: options from JS, and one running sampler per thread.
// The sampler is stopped before a Worker's isolate goes away.
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "js_api.h"
#include "sampler.h"

namespace perfprofile {

namespace {

// Threads (isolates) with a running sampler: a second one on the same thread is an error,
// other threads are independent.
std::mutex g_running_mu;
std::set<v8::Isolate*> g_running;

bool BoolOr(const Napi::Object& o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

double NumberOr(const Napi::Object& o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

/** index.d.ts's SamplerOptions. */
SamplerOptions ReadOptions(const Napi::Object& o) {
  SamplerOptions opt;
  opt.timer = BoolOr(o, "timer", false);
  opt.clock_helper = !opt.timer && BoolOr(o, "clockHelper", false);
  opt.events = ReadEvents(o.Get("events"));
  opt.period = static_cast<uint64_t>(NumberOr(o, "period", 1e6));
  if (opt.period == 0) opt.period = 1;
  opt.kernel = BoolOr(o, "kernel", false);
  opt.precise = static_cast<int>(NumberOr(o, "precise", 0));
  opt.depth = static_cast<uint32_t>(NumberOr(o, "depth", 128));
  if (opt.depth == 0) opt.depth = 1;
  opt.ring_bytes =
      static_cast<size_t>(NumberOr(o, "ringBytes", static_cast<double>(SamplerOptions().ring_bytes)));
  if (opt.ring_bytes < 4096) opt.ring_bytes = 4096;
  opt.signal_only = BoolOr(o, "signalOnly", false);
  Napi::Value progress = o.Get("progressPath");
  if (progress.IsString()) opt.progress_path = progress.As<Napi::String>().Utf8Value();
  Napi::Value memo = o.Get("stackMemo");
  if (memo.IsString()) {
    std::string m = memo.As<Napi::String>().Utf8Value();
    opt.stack_memo = m == "off" ? MemoMode::kOff : m == "check" ? MemoMode::kCheck : MemoMode::kOn;
  }
  Napi::Value fixes = o.Get("fixes");
  if (fixes.IsObject()) {
    Napi::Object f = fixes.As<Napi::Object>();
    opt.fixes.leaf = BoolOr(f, "leaf", true);
    opt.fixes.frameless = BoolOr(f, "frameless", true);
    opt.fixes.remap = BoolOr(f, "remap", true);
  }
  return opt;
}

class SamplerWrap : public Napi::ObjectWrap<SamplerWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "Sampler",
        {InstanceMethod<&SamplerWrap::Start>("start"), InstanceMethod<&SamplerWrap::Stop>("stop"),
         InstanceMethod<&SamplerWrap::Samples>("samples"), InstanceMethod<&SamplerWrap::Lost>("lost"),
         InstanceMethod<&SamplerWrap::HelperCpuNs>("helperCpuNs")});
  }

  explicit SamplerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SamplerWrap>(info) {
    SamplerOptions opt = ReadOptions(info[0].As<Napi::Object>());
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

  Napi::Value HelperCpuNs(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(sampler_->helper_cpu_ns()));
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (sampler_->running()) sampler_->Stop();
    Unregister();
    return ProfileToJs(info.Env(), *sampler_);
  }

  std::unique_ptr<Sampler> sampler_;
  v8::Isolate* isolate_ = nullptr;
  napi_env env_ = nullptr;
  bool registered_ = false;
  bool used_ = false;
};

}  // namespace

Napi::Function SamplerClass(Napi::Env env) { return SamplerWrap::Init(env); }

}  // namespace perfprofile
