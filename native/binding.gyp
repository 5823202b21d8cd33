{
  "targets": [
    {
      "target_name": "perfprofile_native",
      "sources": ["src/addon.cc", "src/trigger.cc", "src/codemap.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-Wall", "-Wextra", "-Werror", "-fexceptions", "-O2", "<!@(node -p \"process.env.PERFPROFILE_SANITIZE ? '-fsanitize=address,undefined -fno-omit-frame-pointer -g' : ''\")"],
      "ldflags": ["<!@(node -p \"process.env.PERFPROFILE_SANITIZE ? '-fsanitize=address,undefined' : ''\")"]
    }
  ]
}
