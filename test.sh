#!/usr/bin/env bash
# test.sh: the whole test suite. Installs what is missing, then builds and runs CTest twice:
# the optimised build (warnings are errors) and the AddressSanitizer + UBSan build.
# Extra arguments go to ctest (e.g. ./test.sh -L unit).
set -uo pipefail
cd "$(dirname "$0")"
tools/install-deps.sh || exit 1
status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for cfg in build build-asan; do
  echo "== $cfg"
  tools/build.sh "$cfg" || { status=1; continue; }
  ctest --test-dir "$cfg" --output-on-failure "$@" || status=1
done
exit $status
