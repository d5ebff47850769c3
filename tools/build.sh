#!/usr/bin/env bash
# build.sh DIR: configures (once) and builds beamloop into DIR; "build-asan" gets the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
opts=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
case "$dir" in
  *asan*) opts+=(-DBL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" "${opts[@]}"
fi
cmake --build "$dir" -j "$(nproc)"
