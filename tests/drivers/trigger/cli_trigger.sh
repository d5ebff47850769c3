#!/bin/sh
# cli_trigger.sh SIM BEAMLOOP SRC: `beamloop trigger` against bl-tbox-sim: ping, a train and its edges, a refused train.
set -u
sim=$1 bl=$2 src=$3
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$sim" --hwdb "$src/hwdb/beamlines/sim.yaml" --port 0 --control "$dir/ctl" > "$dir/out" &
pid=$!
for i in $(seq 100); do grep -q ready "$dir/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/^ready tcp 127.0.0.1 //p' "$dir/out")
tb() { "$bl" trigger --port "$port" "$@" 2>&1; }
fail=0
expect() { if printf '%s\n' "$2" | grep -q -- "$1"; then echo "ok: $1"; else echo "FAIL: '$1' not in:"; printf '%s\n' "$2"; fail=1; fi; }
expect "trigger box protocol 1, 4 channels, 100000000 Hz clock" "$(tb ping)"
out=$(tb arm 2 100 2 5)
expect "armed on channel 2: 5 pulses" "$out"
expect "edge ch 2 out #4 at tick" "$out"
expect "5 edges, 0 lost" "$out"
out=$(tb arm 9 20 2 5); rc=$?
expect "beamloop: trigger arm: Invalid argument" "$out"
[ $rc -eq 1 ] || fail=1
out=$(tb arm 0 20 0.00001 5 0.001); rc=$?
expect "outside the box's limits in hwdb" "$out"
exit $fail
