#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UBSan into its own directory
# (build/node-abi<N>-asan/, beside the normal build, which stays untouched) and runs the native
# tests against it: PERFPROFILE_SANITIZE=1 makes index.js load that build. Node itself is not
# instrumented, so libasan is preloaded; leak detection is off (Node does not free everything
# at exit).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
core="$here/../packages/core"
libasan="$(g++ -print-file-name=libasan.so)"
libubsan="$(g++ -print-file-name=libubsan.so)"
export PERFPROFILE_SANITIZE=1
status="$here/build/node-abi$(node -p process.versions.modules)-asan/status.json"
(cd "$here" && node scripts/install.js && grep -q '"ok":true' "$status") || { cat "$status"; exit 1; }
cd "$core"
export LD_PRELOAD="$libasan $libubsan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1:handle_segv=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Vitest's own processes inherit LD_PRELOAD and PERFPROFILE_SANITIZE; the tests spawn Node
# children and Workers too.
npx vitest run test/native.test.ts "$@"
