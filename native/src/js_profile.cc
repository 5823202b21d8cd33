// A stopped sampler → index.d.ts's RawProfile object.
// The folded stacks with only the frames they use, renumbered, and the sampler's and code
// map's counts.
#include <cinttypes>
#include <cstdio>

#include "js_api.h"
#include "sampler.h"

namespace perfprofile {

namespace {

// index.d.ts's RawCode: the start as V8's log prints addresses (0x, lower-case hex), exact
// where a double would not be.
Napi::Object CodeToJs(Napi::Env env, const CodeAt& at) {
  char start[2 + 2 * sizeof(uintptr_t) + 1];
  snprintf(start, sizeof start, "0x%" PRIxPTR, at.origin);
  Napi::Object code = Napi::Object::New(env);
  code.Set("start", Napi::String::New(env, start));
  code.Set("size", Napi::Number::New(env, static_cast<double>(at.size)));
  code.Set("offset", Napi::Number::New(env, at.offset));
  if (at.line > 0) {
    code.Set("line", Napi::Number::New(env, at.line));
    code.Set("column", Napi::Number::New(env, at.column));
  }
  if (!at.inlined.empty()) {
    Napi::Object inlined = Napi::Object::New(env);
    inlined.Set("name", Napi::String::New(env, at.inlined));
    inlined.Set("line", Napi::Number::New(env, at.inlined_line));
    inlined.Set("column", Napi::Number::New(env, at.inlined_column));
    code.Set("inferred", inlined);
  }
  return code;
}

}  // namespace

Napi::Object ProfileToJs(Napi::Env env, Sampler& sampler) {
  CodeMap& map = sampler.codemap();
  const auto& all = map.frames();
  std::vector<int64_t> renumbered(all.size(), -1);
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
      if (renumbered[id] < 0) {
        renumbered[id] = nframes;
        const FrameInfo& info = all[id];
        Napi::Array f = Napi::Array::New(env, info.code.origin != 0 ? 3 : 2);
        f.Set(0u, Napi::String::New(env, info.name));
        f.Set(1u, Napi::Number::New(env, info.kind));
        if (info.code.origin != 0) f.Set(2u, CodeToJs(env, info.code));
        frames.Set(nframes++, f);
      }
      ids.Set(static_cast<uint32_t>(i - 2), Napi::Number::New(env, static_cast<double>(renumbered[id])));
    }
    st.Set("frames", ids);
    st.Set("count", Napi::Number::New(env, static_cast<double>(kv.second.count)));
    Napi::Array values = Napi::Array::New(env, kv.second.values.size());
    for (size_t i = 0; i < kv.second.values.size(); i++)
      values.Set(static_cast<uint32_t>(i), kv.second.values[i]);
    st.Set("values", values);
    stacks.Set(nstacks++, st);
  }
  auto number = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
  Napi::Object out = Napi::Object::New(env);
  out.Set("frames", frames);
  out.Set("stacks", stacks);
  out.Set("samples", number(sampler.samples()));
  out.Set("lost", number(sampler.lost()));
  out.Set("unresolved", number(map.unresolved()));
  out.Set("blobPcs", number(map.blob_pcs()));
  out.Set("remapPcs", number(map.remap_pcs()));
  out.Set("codeEvents", number(map.code_events()));
  out.Set("seededCode", number(map.seeded()));
  out.Set("rawStacks", number(sampler.aggregates()));
  Napi::Object fixed = Napi::Object::New(env);
  fixed.Set("leaf", number(map.fixed().leaf));
  fixed.Set("frameless", number(map.fixed().frameless));
  fixed.Set("remap", number(map.fixed().remap));
  out.Set("fixed", fixed);
  const MemoCounts memo = sampler.memo_counts();
  Napi::Object stack_memo = Napi::Object::New(env);
  stack_memo.Set("hits", number(memo.hits));
  stack_memo.Set("learned", number(memo.learned));
  stack_memo.Set("unmapped", number(memo.unmapped));
  stack_memo.Set("bypassed", number(memo.bypassed));
  stack_memo.Set("mismatches", number(memo.mismatches));
  stack_memo.Set("fastCall", number(memo.fast_call));
  if (memo.mismatches > 0) {
    char first[96];
    snprintf(first, sizeof first, "frame %lld: 0x%" PRIxPTR " replayed, 0x%" PRIxPTR " from V8",
             static_cast<long long>(memo.mismatch_frame), static_cast<uintptr_t>(memo.mismatch_ours),
             static_cast<uintptr_t>(memo.mismatch_v8));
    stack_memo.Set("firstMismatch", Napi::String::New(env, first));
  }
  out.Set("stackMemo", stack_memo);
  out.Set("startNs", number(sampler.start_ns()));
  out.Set("stopNs", number(sampler.stop_ns()));
  return out;
}

}  // namespace perfprofile
