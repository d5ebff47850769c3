#!/bin/sh
# cli_detector.sh SIM BEAMLOOP SRC: `beamloop detector` against bl-detector-sim: status, config, a bad value, a 3-frame series read from the stream.
set -u
sim=$1 bl=$2 src=$3
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$sim" --hwdb "$src/hwdb/beamlines/sim.yaml" --control "$dir/ctl" --http-port 0 \
	--stream tcp://127.0.0.1:0 --shape 128x136 > "$dir/out" &
pid=$!
for i in $(seq 100); do grep -q ready "$dir/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*http=\([0-9]*\).*/\1/p' "$dir/out")
stream=$(sed -n 's/.*stream=\([^ ]*\).*/\1/p' "$dir/out")
det() { "$bl" detector --port "$port" --stream "$stream" "$@" 2>&1; }
fail=0
expect() { if printf '%s\n' "$2" | grep -q -- "$1"; then echo "ok: $1"; else echo "FAIL: '$1' not in:"; printf '%s\n' "$2"; fail=1; fi; }
expect "state idle" "$(det status)"
expect "count_time = 0.2" "$(det set count_time 0.2)"
expect "count_time = 0.2" "$(det get count_time)"
out=$(det set count_time -1); rc=$?
expect "HTTP 400" "$out"
[ $rc -eq 1 ] || fail=1
out=$(det series 3); rc=$?
expect "frame 2: 128x136 uint32" "$out"
expect "md5 ok" "$out"
expect "series 1 ended: 3 frames, 0 missing" "$out"
[ $rc -eq 0 ] || fail=1
expect "state idle" "$(det status)"
exit $fail
