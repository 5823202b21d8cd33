{
  "targets": [
    {
      "target_name": "perfprofile_native",
      "sources": ["src/addon.cc", "src/js_sampler.cc", "src/js_profile.cc", "src/js_functions.cc", "src/sampler.cc", "src/trigger.cc", "src/clock_helper.cc", "src/signal_handler.cc", "src/stack_memo.cc", "src/consumer.cc", "src/raw_stacks.cc", "src/counters.cc", "src/codemap.cc", "src/stack_repair.cc", "src/code_ranges.cc", "src/code_tracker.cc", "src/line_tables.cc", "src/scripts.cc", "src/names.cc", "src/builtins.cc", "src/native_symbols.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-Wall", "-Wextra", "-Werror", "-fexceptions", "-O2", "<!@(node -p \"process.env.PERFPROFILE_SANITIZE ? '-fsanitize=address,undefined -fno-omit-frame-pointer -g' : ''\")"],
      "ldflags": ["<!@(node -p \"process.env.PERFPROFILE_SANITIZE ? '-fsanitize=address,undefined' : ''\")"]
    }
  ]
}
