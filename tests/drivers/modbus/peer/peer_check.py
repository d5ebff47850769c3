#!/usr/bin/python3
"""peer_check.py PORT: reads with pymodbus's client what beamloop's driver wrote, word for word."""
import struct
import sys

from pymodbus.client import ModbusTcpClient


def main():
    client = ModbusTcpClient("127.0.0.1", port=int(sys.argv[1]))
    if not client.connect():
        sys.exit("cannot connect")
    hr = client.read_holding_registers(10, 6, slave=1).registers
    coil = client.read_coils(7, 1, slave=1).bits[0]
    client.close()
    i16 = struct.unpack(">h", struct.pack(">H", hr[0]))[0]
    i32 = struct.unpack(">i", struct.pack(">HH", hr[2], hr[3]))[0]
    f32 = struct.unpack(">f", struct.pack(">HH", hr[4], hr[5]))[0]
    print(f"peer sees w_i16 raw {i16}, w_i32 {i32}, w_f32 {f32}, w_coil {coil}")
    ok = i16 == -425 and i32 == -123456 and abs(f32 - 6.75) < 1e-6 and coil
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
