#!/usr/bin/python3
"""bg_peer.py DIR N: runs pyFAI's sigma_clip_ng (csr, no split, error model "azimuthal") on each
case test_bg_peer wrote into DIR.

Each case DIR/case<k>.txt holds key=value lines (geometry in Fit2D terms, shape, bins, thres,
max_iter) and DIR/case<k>_{frame,dark,flat,mask}.bin raw arrays; writes DIR/case<k>_out.bin:
radial, intensity, std = sqrt(sum_variance / sum_normalization), sigma, count (float64, npt
each)."""
import logging
import os
import sys

import numpy

logging.disable(logging.WARNING)
import pyFAI.detectors  # noqa: E402
from pyFAI.azimuthalIntegrator import AzimuthalIntegrator  # noqa: E402


def run(d, k):
    kv = dict(l.strip().split("=", 1) for l in open(os.path.join(d, f"case{k}.txt")) if "=" in l)
    nr, nc = int(kv["nrows"]), int(kv["ncols"])
    arr = lambda n, t: numpy.fromfile(os.path.join(d, f"case{k}_{n}.bin"), t).reshape(nr, nc)
    frame, dark, flat = arr("frame", numpy.float32), arr("dark", numpy.float32), arr("flat", numpy.float32)
    mask = arr("mask", numpy.uint8).astype(numpy.int8)
    px = float(kv["pixel_um"])
    det = pyFAI.detectors.Detector(px * 1e-6, px * 1e-6, max_shape=(nr, nc))
    ai = AzimuthalIntegrator(detector=det, wavelength=float(kv["wavelength_nm"]) * 1e-9)
    ai.setFit2D(float(kv["distance_mm"]), float(kv["bcx"]), float(kv["bcy"]), pixelX=px, pixelY=px)
    r = ai.sigma_clip_ng(frame, int(kv["npt"]), correctSolidAngle=True,
                         polarization_factor=float(kv["polarization"]), dark=dark, flat=flat,
                         method=("no", "csr", "cython"), unit="q_nm^-1",
                         thres=float(kv["thres"]), max_iter=int(kv["max_iter"]),
                         error_model="azimuthal", mask=mask, dummy=-1.5, delta_dummy=0.6,
                         normalization_factor=float(kv["normalization"]))
    with numpy.errstate(invalid="ignore", divide="ignore"):
        std = numpy.sqrt(r.sum_variance / r.sum_normalization)
    out = numpy.concatenate([r.radial, r.intensity, std, r.sigma, r.count]).astype(numpy.float64)
    out.tofile(os.path.join(d, f"case{k}_out.bin"))


if __name__ == "__main__":
    for k in range(int(sys.argv[2])):
        run(sys.argv[1], k)
