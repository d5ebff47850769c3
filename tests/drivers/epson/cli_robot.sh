#!/bin/sh
# cli_robot.sh SIM BEAMLOOP SRC: `beamloop robot` sessions against bl-epson-sim: a full cycle, a sample
# left in the gripper found by the next session, and a return to the wrong slot refused.
set -u
sim=$1 bl=$2 src=$3
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$sim" --hwdb "$src/hwdb/beamlines/sim.yaml" --time-scale 1000 --control "$dir/ctl" 0 > "$dir/out" &
pid=$!
for i in $(seq 100); do [ -s "$dir/out" ] && break; sleep 0.05; done
port=$(head -n 1 "$dir/out")
ctl() { printf '%s\n' "$1" | socat - UNIX-CONNECT:"$dir/ctl"; }
robot() { "$bl" robot --port "$port" "$@" 2>&1; }
fail=0
expect() { # expect PATTERN TEXT
	if printf '%s\n' "$2" | grep -q -- "$1"; then echo "ok: $1"; else echo "FAIL: '$1' not in:"; printf '%s\n' "$2"; fail=1; fi
}
out=$(robot motors on cycle 1 5); rc=$?
expect "ok cycle: at above_pucks, sample none out" "$out"
[ $rc -eq 0 ] || fail=1
expect "ok 105" "$(ctl 'slot 1 5')"
out=$(robot pick 2 16 barcode)
expect "ok barcode: at barcode station, sample in the gripper (puck 2 slot 16)" "$out"
expect "ok 0" "$(ctl 'slot 2 16')"
# a new session: the gripper sensor shows the sample the last one left there
out=$(robot pick 1 1); rc=$?
expect "a sample is already out of the pucks" "$out"
[ $rc -eq 1 ] || fail=1
expect "ok 101" "$(ctl 'slot 1 1')"
out=$(robot status)
expect "origin unknown" "$out"
out=$(robot return 2 16)
expect "ok return: at above_pucks, sample none out" "$out"
expect "ok 216" "$(ctl 'slot 2 16')"
# a sample goes back only where it came from
out=$(robot pick 1 3 return 1 4); rc=$?
expect "belongs to puck 1 slot 3" "$out"
[ $rc -eq 1 ] || fail=1
expect "ok 104" "$(ctl 'slot 1 4')"
out=$(robot return 1 3)
expect "ok return" "$out"
expect "ok 103" "$(ctl 'slot 1 3')"
out=$("$bl" robot --port 1 status 2>&1); rc=$?
[ $rc -eq 1 ] && echo "ok: no robot at port 1 -> exit 1" || { echo "FAIL: $out"; fail=1; }
exit $fail
