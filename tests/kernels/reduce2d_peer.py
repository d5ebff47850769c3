#!/usr/bin/python3
"""reduce2d_peer.py DIR N: runs pyFAI's integrate2d_ng (csr) on each case test_reduce2d_peer wrote.

Each case DIR/case<k>.txt holds key=value lines (geometry in Fit2D terms, shape, method, bins)
and DIR/case<k>_{frame,dark,flat,mask}.bin raw arrays; writes DIR/case<k>_out.bin: radial
(npt_rad), chi in degrees (npt_azim), then intensity, sigma, count (npt_azim x npt_rad each),
float64."""
import logging
import os
import sys

import numpy

logging.disable(logging.WARNING)
import pyFAI.detectors  # noqa: E402
from pyFAI.azimuthalIntegrator import AzimuthalIntegrator  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reduce_peer import fit2d_rot3  # noqa: E402


def run(d, k):
    kv = dict(l.strip().split("=", 1) for l in open(os.path.join(d, f"case{k}.txt")) if "=" in l)
    nr, nc = int(kv["nrows"]), int(kv["ncols"])
    arr = lambda n, t: numpy.fromfile(os.path.join(d, f"case{k}_{n}.bin"), t).reshape(nr, nc)
    frame, dark, flat = arr("frame", numpy.float32), arr("dark", numpy.float32), arr("flat", numpy.float32)
    mask = arr("mask", numpy.uint8).astype(numpy.int8)
    px, py = float(kv["pixel_x_um"]), float(kv["pixel_y_um"])
    det = pyFAI.detectors.Detector(py * 1e-6, px * 1e-6, max_shape=(nr, nc))
    ai = AzimuthalIntegrator(detector=det, wavelength=float(kv["wavelength_nm"]) * 1e-9)
    tilt, tpr = float(kv["tilt_deg"]), float(kv["tilt_plane_deg"])
    ai.setFit2D(float(kv["distance_mm"]), float(kv["bcx"]), float(kv["bcy"]), tilt=tilt,
                tiltPlanRotation=tpr, pixelX=px, pixelY=py)
    ai.rot3 = fit2d_rot3(tilt, tpr)
    method = (kv["split"], "csr", "cython")
    # pyFAI 0.21.3 now and then builds an empty 2D CSR engine (every bin the dummy, count 0) on
    # the first integrate2d_ng of a process, and keeps it: reset the engines and integrate again
    # until the counts are there (at most 3 times).
    for _ in range(3):
        r = ai.integrate2d_ng(frame, int(kv["npt"]), int(kv["npt_azim"]), unit="q_nm^-1",
                              method=method, mask=mask, dark=dark, flat=flat,
                              correctSolidAngle=True, azimuth_range=(-180, 180),
                              polarization_factor=float(kv["polarization"]),
                              normalization_factor=float(kv["normalization"]),
                              dummy=-1.5, delta_dummy=0.6, error_model="poisson")
        if r.count.sum() > 0:
            break
        ai.reset()
    out = numpy.concatenate([r.radial, r.azimuthal, r.intensity.ravel(), r.sigma.ravel(),
                             r.count.ravel()]).astype(numpy.float64)
    out.tofile(os.path.join(d, f"case{k}_out.bin"))


if __name__ == "__main__":
    for k in range(int(sys.argv[2])):
        run(sys.argv[1], k)
