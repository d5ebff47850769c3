#!/usr/bin/python3
"""peer_h5py.py: opens the agent's NeXus files with h5py and silx (Debian's, with the bitshuffle
filter plugin from HDF5_PLUGIN_PATH) and checks data, shape, dtype and metadata against what the
end-to-end test recorded from the detector stream (expected.json)."""
import hashlib
import json
import sys

try:
    import h5py
    import numpy as np
    import silx.io
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

print(f"h5py {h5py.version.version}, silx: {failures} failure(s)")
sys.exit(1 if failures else 0)
