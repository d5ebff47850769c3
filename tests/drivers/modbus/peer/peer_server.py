#!/usr/bin/python3
"""peer_server.py: a Modbus TCP server from pymodbus (not this project's code) with seeded registers.

Prints "ready tcp 127.0.0.1 PORT" once it accepts connections, then serves until killed.
"""
import socket
import struct
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartTcpServer


def words(fmt, value, low_first=False):
    hi, lo = struct.unpack(">HH", struct.pack(fmt, value))
    return [lo, hi] if low_first else [hi, lo]


def main():
    holding = [0] * 32
    holding[0] = (-123) & 0xFFFF                     # i16 = -12.3
    holding[2:4] = words(">I", 100000)               # u32
    holding[4:6] = words(">f", 3.14159274)           # f32
    holding[6:8] = words(">f", -2.5, low_first=True)  # f32_lo
    inputs = [0] * 8
    inputs[0:2] = words(">i", -70000, low_first=True)  # i32_lo = -70.0
    inputs[2] = 180                                  # u16_in = 180 * 0.5 - 40 = 50
    coils = [0] * 16
    coils[3] = 1
    discretes = [0] * 16
    discretes[5] = 1
    store = ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, discretes),
        co=ModbusSequentialDataBlock(0, coils),
        hr=ModbusSequentialDataBlock(0, holding),
        ir=ModbusSequentialDataBlock(0, inputs),
        zero_mode=True)
    context = ModbusServerContext(slaves=store, single=True)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    threading.Thread(target=StartTcpServer,
                     kwargs={"context": context, "address": ("127.0.0.1", port)},
                     daemon=True).start()
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        sys.exit("pymodbus server did not come up")
    print(f"ready tcp 127.0.0.1 {port}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
