#!/usr/bin/python3
"""reduce_peer.py DIR: runs pyFAI's integrate1d_ng on each case test_reduce_peer wrote into DIR.

Each case DIR/case<k>.txt holds key=value lines (geometry in Fit2D terms, shape, method) and
DIR/case<k>_{frame,dark,flat,mask}.bin raw arrays; writes DIR/case<k>_out.bin: radial,
intensity, sigma, count (float64, npt each)."""
import logging
import os
import sys

import numpy

logging.disable(logging.WARNING)
import pyFAI.detectors  # noqa: E402
from pyFAI.azimuthalIntegrator import AzimuthalIntegrator  # noqa: E402


def fit2d_rot3(tilt, tpr):
    """rot3 as setFit2D means it (pyFAI 0.21.3 has sqrt(10 - ...) for sqrt(1 - ...))."""
    if tilt == 0:
        return 0.0
    ct, st = numpy.cos(numpy.radians(tilt)), numpy.sin(numpy.radians(tilt))
    cp, sp = numpy.cos(numpy.radians(tpr)), numpy.sin(numpy.radians(tpr))
    a = (ct * cp * sp - cp * sp) / numpy.sqrt(1.0 - sp * sp * st * st)
    return numpy.pi / 2.0 - numpy.arccos(min(1.0, max(-1.0, a)))


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
    r = ai.integrate1d_ng(frame, int(kv["npt"]), unit="q_nm^-1", method=method, mask=mask,
                          dark=dark, flat=flat, correctSolidAngle=True,
                          polarization_factor=float(kv["polarization"]),
                          normalization_factor=float(kv["normalization"]),
                          dummy=-1.5, delta_dummy=0.6, error_model="poisson")
    out = numpy.concatenate([r.radial, r.intensity, r.sigma, r.count]).astype(numpy.float64)
    out.tofile(os.path.join(d, f"case{k}_out.bin"))


if __name__ == "__main__":
    for k in range(int(sys.argv[2])):
        run(sys.argv[1], k)
