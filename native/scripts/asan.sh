#!/usr/bin/env bash
# Rebuilds the addon with AddressSanitizer + UBSan and runs the native tests against it, then
# restores the normal build. Node itself is not instrumented, so libasan is preloaded; leak
# detection is off (Node does not free everything at exit).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
core="$here/../packages/core"
libasan="$(g++ -print-file-name=libasan.so)"
libubsan="$(g++ -print-file-name=libubsan.so)"
restore() { (cd "$here" && node scripts/install.js >/dev/null); }
trap restore EXIT
(cd "$here" && PERFPROFILE_SANITIZE=1 node scripts/install.js && grep -q '"ok":true' build/status.json) || { cat "$here/build/status.json"; exit 1; }
cd "$core"
export LD_PRELOAD="$libasan $libubsan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1:handle_segv=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Vitest's own processes inherit LD_PRELOAD; the tests spawn Node children and Workers too.
npx vitest run test/native.test.ts "$@"
