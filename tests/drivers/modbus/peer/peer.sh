#!/bin/sh
# peer.sh TEST SRCDIR: the Modbus driver against pymodbus's server, and pymodbus's client reading back what it wrote.
set -u
test=$1 src=$2 here=$src/tests/drivers/modbus/peer
out=$(mktemp)
/usr/bin/python3 "$here/peer_server.py" > "$out" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
for i in $(seq 200); do grep -q ready "$out" && break; sleep 0.05; done
port=$(sed -n 's/^ready tcp 127.0.0.1 //p' "$out")
[ -n "$port" ] || { echo "pymodbus server did not start"; exit 1; }
"$test" "$here/peer.yaml" "$port" || exit 1
/usr/bin/python3 "$here/peer_check.py" "$port"
