#!/usr/bin/env python3
"""reduce_h5py.py DIR: h5py reads /entry/process that `beamloop reduce` wrote into DIR/ring.nxs."""
import math
import sys

try:
    import h5py
except ImportError:
    print("skip: no h5py")
    sys.exit(77)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


with h5py.File(sys.argv[1] + "/ring.nxs", "r") as f:
    p = f["/entry/process"]
    assert text(p.attrs["NX_class"]) == "NXprocess", p.attrs["NX_class"]
    assert text(p["program"][()]) == "beamloop reduce"
    assert p["parameters/bins"][()] == 200
    q, I = p["q"][:], p["I"][:]
    assert q.shape == (200,) and I.shape == (3, 200), (q.shape, I.shape)
    for name in ("sigma", "sem", "count"):
        assert p[name].shape == (3, 200), name
    w = p["waterfall"]
    assert text(w.attrs["signal"]) == "I" and w["I"].shape == (3, 200)
    assert p["peaks/npeaks"].shape == (3,)
    assert [text(a) for a in w.attrs["axes"]] == ["frame", "q"]
    ring = 4 * math.pi * math.sin(math.atan(30 * 75e-6 / 0.2) / 2) / 0.1
    b = int(I[0].argmax())
    assert abs(q[b] - ring) <= 1.5 * (q[1] - q[0]), (q[b], ring)
    # the frames themselves decode through the bitshuffle plugin
    d = f["/entry/instrument/detector/data"]
    assert d.shape == (3, 100, 120) and d[0, 10, 0] == 65535
print("ok")
