#!/bin/sh
# cli_modbus.sh SIM BEAMLOOP SRC: `beamloop modbus` against the simulated heater over TCP: write, read, a limit, an exception.
set -u
sim=$1 bl=$2 src=$3
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$sim" --hwdb "$src/hwdb/beamlines/sim.yaml" --device heater_die --port 0 --control "$dir/ctl" > "$dir/out" &
pid=$!
for i in $(seq 100); do grep -q ready "$dir/out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/^ready tcp 127.0.0.1 //p' "$dir/out")
mb() { "$bl" modbus --port "$port" "$@" 2>&1; }
fail=0
check() { if [ "$1" = "$2" ]; then echo "ok: $2"; else echo "FAIL: got '$1' want '$2'"; fail=1; fi; }
check "$(mb write heater_die target_sp 65.5)" "heater_die.target_sp = 65.5 degC"
check "$(mb read heater_die target_sp)" "heater_die.target_sp = 65.5 degC"
check "$(mb write heater_die target_sp 999; echo "rc=$?")" "beamloop: heater_die.target_sp: value outside the register's limits
rc=1"
printf 'exception 2 1\n' | socat - UNIX-CONNECT:"$dir/ctl" >/dev/null
check "$(mb read heater_die pv)" "beamloop: heater_die.pv: Modbus exception: illegal data address"
check "$(mb dump heater_die | grep -c degC)" "5"
exit $fail
