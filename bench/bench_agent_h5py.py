#!/usr/bin/python3
"""bench_agent_h5py.py: the h5py peer of bench_agent: writes the same bitshuffle-LZ4 frames to
the same disk for SECONDS, once by direct chunk write (id.write_direct_chunk) and once as a plain
compressed dataset write (filter 32008 compresses the pixels), and prints frames/s and GB/s.
Usage: bench_agent_h5py.py NAME FRAMES.BIN WIDTH HEIGHT DTYPE SECONDS NDISTINCT"""
import os
import struct
import sys
import time

import h5py
import numpy as np

name, path, w, h, dtype, seconds, nd = sys.argv[1:8]
w, h, seconds, nd = int(w), int(h), float(seconds), int(nd)
dt = np.dtype(dtype)
raw_bytes = w * h * dt.itemsize
chunks, pixels = [], []
with open(path, "rb") as f:
    for _ in range(nd):
        (size,) = struct.unpack("<Q", f.read(8))
        chunks.append(f.read(size))
        pixels.append(np.frombuffer(f.read(raw_bytes), dtype=dt).reshape(h, w))
out = os.path.join(os.path.dirname(path), "h5py.h5")


def run(direct):
    t0 = time.perf_counter()
    c0 = time.process_time()
    n = 0
    with h5py.File(out, "w", libver="latest") as f:
        d = f.create_dataset("data", shape=(0, h, w), maxshape=(None, h, w), dtype=dt,
                             chunks=(1, h, w), compression=32008, compression_opts=(0, 2))
        while time.perf_counter() - t0 < seconds:
            d.resize(n + 1, axis=0)
            if direct:
                d.id.write_direct_chunk((n, 0, 0), chunks[n % nd], filter_mask=0)
            else:
                d[n] = pixels[n % nd]
            n += 1
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    size = os.path.getsize(out)
    os.unlink(out)
    what = "h5py direct chunk" if direct else "h5py compressed  "
    print(f"{name:<10} {what} {n:6d} frames {wall:5.2f} s  {n / wall:7.1f} frames/s  "
          f"raw {n * raw_bytes / wall / 1e9:5.2f} GB/s  written {size / wall / 1e9:5.2f} GB/s  "
          f"cpu/frame {cpu / n * 1e3:.2f} ms  (h5py {h5py.version.version}, "
          f"HDF5 {h5py.version.hdf5_version})", flush=True)


run(True)
run(False)
