#!/usr/bin/python3
"""bench_reduce2d_pyfai.py DIR NR NC PIXEL_UM BCX BCY DIST_MM SPLIT NPT NPT_AZIM SECONDS: times
pyFAI's integrate2d_ng (csr, chi over -180..180, same corrections as bench_reduce's 2D case) on
DIR/frames.bin; prints "fps X"."""
import logging
import sys
import time

import numpy

logging.disable(logging.WARNING)
import pyFAI.detectors  # noqa: E402
from pyFAI.azimuthalIntegrator import AzimuthalIntegrator  # noqa: E402

d, nr, nc, px, bcx, bcy, dist, split, npt, npt_azim, secs = sys.argv[1:12]
nr, nc, px, npt, npt_azim = int(nr), int(nc), float(px), int(npt), int(npt_azim)
frames = numpy.fromfile(f"{d}/frames.bin", numpy.float32).reshape(-1, nr, nc)
dark = numpy.fromfile(f"{d}/dark.bin", numpy.float32).reshape(nr, nc)
flat = numpy.fromfile(f"{d}/flat.bin", numpy.float32).reshape(nr, nc)
mask = numpy.fromfile(f"{d}/mask.bin", numpy.uint8).reshape(nr, nc).astype(numpy.int8)
det = pyFAI.detectors.Detector(px * 1e-6, px * 1e-6, max_shape=(nr, nc))
ai = AzimuthalIntegrator(detector=det, wavelength=0.1e-9)
ai.setFit2D(float(dist), float(bcx), float(bcy), pixelX=px, pixelY=px)
kw = dict(unit="q_nm^-1", method=(split, "csr", "cython"), mask=mask, dark=dark, flat=flat,
          correctSolidAngle=True, polarization_factor=0.99, normalization_factor=2.5,
          azimuth_range=(-180, 180), dummy=-1.5, delta_dummy=0.6, error_model="poisson")
for _ in range(3):  # builds the CSR table (not timed); pyFAI 0.21.3 now and then builds an
    if ai.integrate2d_ng(frames[0], npt, npt_azim, **kw).count.sum() > 0:  # empty one first
        break
    ai.reset()
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < float(secs):
    ai.integrate2d_ng(frames[n % len(frames)], npt, npt_azim, **kw)
    n += 1
print(f"fps {n / (time.perf_counter() - t0):.1f}")
