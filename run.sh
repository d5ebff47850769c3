#!/usr/bin/env bash
# run.sh: the main job. Installs what is missing, builds, and runs beamloop on the virtual beamline.
# Usage: ./run.sh [beamloop run options, e.g. --hwdb hwdb/beamlines/sim.yaml]
set -euo pipefail
cd "$(dirname "$0")"
tools/install-deps.sh
tools/build.sh build >/dev/null
exec build/tools/beamloop run "$@"
