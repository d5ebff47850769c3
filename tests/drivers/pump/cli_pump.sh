#!/bin/sh
# cli_pump.sh SIM BEAMLOOP SRC: `beamloop pump` against the simulator: set, run, read back, a limit, an alarm.
set -u
sim=$1 bl=$2 src=$3
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$sim" --hwdb "$src/hwdb/beamlines/sim.yaml" --link "$dir/p" --control "$dir/ctl" --time-scale 60 > "$dir/out" &
pid=$!
for i in $(seq 100); do grep -q ready "$dir/out" 2>/dev/null && break; sleep 0.05; done
ctl() { printf '%s\n' "$1" | socat - UNIX-CONNECT:"$dir/ctl"; }
pump() { "$bl" pump --port "$dir/p" "$@"; }
fail=0
check() { if [ "$1" = "$2" ]; then echo "ok: $2"; else echo "FAIL: got '$1' want '$2'"; fail=1; fi; }
check "$(pump rate 250)" "ok S"
check "$(pump send RAT)" "ok S 250.0UM"
check "$(pump send VER)" "ok S NE1000V3.928"
check "$(pump run)" "ok I"
out=$(pump rate 900 2>&1); rc=$?
check "$rc $out" "1 beamloop: pump: outside the limits in hwdb"
ctl stall >/dev/null; sleep 0.1
out=$(pump status 2>&1); rc=$?
check "$rc $out" "1 beamloop: pump: 'DIS': alarm S"
check "$(pump status | cut -c1-7)" "state S"
check "$(ctl show | grep -o 'state=S')" "state=S"
exit $fail
