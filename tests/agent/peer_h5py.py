#!/usr/bin/python3
"""peer_h5py.py: opens the agent's NeXus files with h5py and silx (Debian's, with the bitshuffle
filter plugin from HDF5_PLUGIN_PATH) and checks data, shape, dtype and metadata against what the
end-to-end test recorded from the detector stream (expected.json); then integrates one stored
frame of each file with pyFAI using the geometry stored in the file (a sanity check: finite, and
no pixel lost; the reduction's accuracy peer test is in tests/kernels)."""
import hashlib
import json
import sys

try:
    import h5py
    import numpy as np
    import silx.io
    from pyFAI.azimuthalIntegrator import AzimuthalIntegrator
except ImportError as e:  # the peers are not installed: tools/install-deps.sh
    print(f"skip: {e}")
    sys.exit(77)

failures = 0


def check(cond, what):
    global failures
    if not cond:
        print(f"FAILED: {what}")
        failures += 1


def text(v):
    v = v[()] if isinstance(v, h5py.Dataset) else v
    return v.decode() if isinstance(v, (bytes, np.bytes_)) else str(v)


exp = json.load(open(sys.argv[1]))
shape = tuple(exp["shape"])
for name in ("a", "b"):
    e = exp[name]
    n = len(e["md5"])
    with h5py.File(e["path"], "r", swmr=True) as f:
        entry = f["entry"]
        check(text(entry.attrs.get("NX_class")) == "NXentry", f"{name}: NXentry")
        check(text(entry["definition"]) == "NXsas", f"{name}: definition")
        d = entry["instrument/detector/data"]
        check(d.shape == (n,) + shape, f"{name}: shape {d.shape}")
        check(d.dtype == np.dtype(e["dtype"]), f"{name}: dtype {d.dtype}")
        check(32008 in d._filters or "32008" in d._filters, f"{name}: filter {d._filters}")
        link = entry["data/data"]
        check(link.id == d.id, f"{name}: /entry/data/data is the detector data")
        check(text(entry["data"].attrs["signal"]) == "data", f"{name}: signal")
        for k in range(n):
            frame = np.ascontiguousarray(d[k], dtype="<" + np.dtype(e["dtype"]).str[1:])
            md5 = hashlib.md5(frame.tobytes()).hexdigest()
            check(md5 == e["md5"][k], f"{name}: frame {k} md5 {md5} != {e['md5'][k]}")
        tagged = list(entry["instrument/trigger/tagged"][()])
        check(tagged == e["tagged"], f"{name}: tagged {tagged}")
        check(list(entry["instrument/detector/frame_number"][()]) == list(range(n)),
              f"{name}: frame numbers")
        check(abs(entry["instrument/monochromator/wavelength"][()] - exp["wavelength"]) < 1e-9,
              f"{name}: wavelength")
        check(abs(entry["instrument/detector/distance"][()] - exp["distance"]) < 1e-9,
              f"{name}: distance")
        check(text(entry["instrument/detector/distance"].attrs["units"]) == "m", "units")
        check(text(entry["ingest/status"]) == "complete", f"{name}: status")
        if "barcode" in e:
            check(text(entry["sample/barcode"]) == e["barcode"], f"{name}: barcode")
        if "label" in e:
            check(text(entry["sample/print/label"]) == e["label"], f"{name}: print label")
            film = entry["instrument/printer/film_position"][()]
            check(list(film) == [50.0 + k for k in range(n)], f"{name}: film {film}")
    # silx, the same frames
    with silx.io.open(e["path"]) as s:
        d = s["/entry/data/data"]
        check(d.shape == (n,) + shape, f"silx {name}: shape")
        first = np.ascontiguousarray(d[0], dtype="<" + np.dtype(e["dtype"]).str[1:])
        check(hashlib.md5(first.tobytes()).hexdigest() == e["md5"][0], f"silx {name}: frame 0")
        check(text(s["/entry/sample/name"]) in (e.get("barcode"), e.get("label")),
              f"silx {name}: sample name")



def pyfai_check(name, path, k):
    """Integrates frame K of PATH with pyFAI (no pixel splitting, no corrections): every bin
    finite and the sum of the bins' signal equal to the frame's sum to 1e-6."""
    with h5py.File(path, "r", swmr=True) as f:
        det = f["entry/instrument/detector"]
        frame = det["data"][k].astype(np.float64)
        units = {key: text(det[key].attrs["units"]) for key in ("distance", "x_pixel_size")}
        check(units == {"distance": "m", "x_pixel_size": "m"}, f"pyFAI {name}: units {units}")
        px, py = det["x_pixel_size"][()], det["y_pixel_size"][()]
        bx, by = det["beam_center_x"][()], det["beam_center_y"][()]
        wl = f["entry/instrument/monochromator/wavelength"][()]
        check(text(f["entry/instrument/monochromator/wavelength"].attrs["units"]) == "angstrom",
              f"pyFAI {name}: wavelength units")
        ai = AzimuthalIntegrator(dist=det["distance"][()], poni1=by * py, poni2=bx * px,
                                 pixel1=py, pixel2=px, wavelength=wl * 1e-10)
    check(ai.detector.shape is None or ai.detector.shape == frame.shape, "pyFAI detector shape")
    r = ai.integrate1d_ng(frame, 200, unit="q_nm^-1", method=("no", "histogram", "cython"),
                          correctSolidAngle=False, polarization_factor=None)
    check(np.all(np.isfinite(r.intensity)) and np.all(np.isfinite(r.radial)),
          f"pyFAI {name}: non-finite result")
    total, want = float(np.sum(r.sum_signal)), float(frame.sum())
    check(want > 0 and abs(total - want) <= 1e-6 * want,
          f"pyFAI {name}: sum of bins {total} != frame sum {want}")
    check(r.radial[0] >= 0 and r.radial[-1] > r.radial[0], f"pyFAI {name}: q range")
    return total


for name in ("a", "b"):
    total = pyfai_check(name, exp[name]["path"], 0)
    print(f"pyFAI {name}: frame 0 integrated, sum {total:.0f}")

print(f"h5py {h5py.version.version}, silx, pyFAI: {failures} failure(s)")
sys.exit(1 if failures else 0)
