#!/usr/bin/python3
"""bench_reduce_pyfai.py DIR NAME NR NC PIXEL_UM BCX BCY DIST_MM SPLIT SECONDS: times pyFAI's
integrate1d_ng (csr, same corrections as bench_reduce) on DIR/frames.bin; prints "fps X"."""
import logging
import sys
import time

import numpy

logging.disable(logging.WARNING)
import pyFAI.detectors  # noqa: E402
from pyFAI.azimuthalIntegrator import AzimuthalIntegrator  # noqa: E402

d, name, nr, nc, px, bcx, bcy, dist, split, secs = sys.argv[1:11]
nr, nc, px = int(nr), int(nc), float(px)
frames = numpy.fromfile(f"{d}/frames.bin", numpy.float32).reshape(-1, nr, nc)
dark = numpy.fromfile(f"{d}/dark.bin", numpy.float32).reshape(nr, nc)
flat = numpy.fromfile(f"{d}/flat.bin", numpy.float32).reshape(nr, nc)
mask = numpy.fromfile(f"{d}/mask.bin", numpy.uint8).reshape(nr, nc).astype(numpy.int8)
det = pyFAI.detectors.Detector(px * 1e-6, px * 1e-6, max_shape=(nr, nc))
ai = AzimuthalIntegrator(detector=det, wavelength=0.1e-9)
ai.setFit2D(float(dist), float(bcx), float(bcy), pixelX=px, pixelY=px)
kw = dict(unit="q_nm^-1", method=(split, "csr", "cython"), mask=mask, dark=dark, flat=flat,
          correctSolidAngle=True, polarization_factor=0.99, normalization_factor=2.5,
          dummy=-1.5, delta_dummy=0.6, error_model="poisson")
ai.integrate1d_ng(frames[0], 1000, **kw)  # builds the CSR table (not timed)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < float(secs):
    ai.integrate1d_ng(frames[n % len(frames)], 1000, **kw)
    n += 1
print(f"fps {n / (time.perf_counter() - t0):.1f}")
