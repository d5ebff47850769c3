#!/bin/sh
# cli_read.sh SIM BEAMLOOP SRC: `beamloop barcode read` against the simulator: a code, a no-read, a misread, and no reader.
set -u
sim=$1 bl=$2 src=$3
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$sim" --hwdb "$src/hwdb/beamlines/sim.yaml" --link "$dir/bc" --control "$dir/ctl" > "$dir/out" &
pid=$!
for i in $(seq 100); do grep -q ready "$dir/out" 2>/dev/null && break; sleep 0.05; done
ctl() { printf '%s\n' "$1" | socat - UNIX-CONNECT:"$dir/ctl"; }
fail=0
ctl "present 2 9" >/dev/null
out=$("$bl" barcode read --port "$dir/bc"); rc=$?
echo "read: $out (exit $rc)"
[ $rc -eq 0 ] && [ "$out" = "ok BL1002096" ] || fail=1
ctl "present none" >/dev/null
out=$("$bl" barcode read --port "$dir/bc"); rc=$?
echo "empty: $out (exit $rc)"
[ $rc -eq 3 ] && [ "$out" = "no-read" ] || fail=1
ctl "present 1 1" >/dev/null; ctl "misread 1" >/dev/null
out=$("$bl" barcode read --port "$dir/bc"); rc=$?
echo "smudged: $out (exit $rc)"
[ $rc -eq 4 ] && echo "$out" | grep -q '^misread (check digit): BL' || fail=1
out=$("$bl" barcode read --port "$dir/none" 2>&1); rc=$?
echo "absent: $out (exit $rc)"
[ $rc -eq 1 ] && echo "$out" | grep -q 'not reachable' || fail=1
exit $fail
