#!/usr/bin/python3
"""report.py: the main job's report folder: OUT/report/index.md with PNG plots made from what the
run left in OUT (campaign.jsonl, index.sqlite, the NeXus files, model.f32): the printing
campaign's convergence with the model's uncertainty, the waterfall of a print's drying series,
a GISAXS frame beside the fitted model, and the samples' fitted parameters.

Usage: report.py OUT   (Debian's python3 with h5py and matplotlib; HDF5_PLUGIN_PATH must name
the bitshuffle plugin folder to read frames)."""
import glob
import json
import os
import sqlite3
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TARGET, TOL, ORIENT = 32.0, 0.02, 0.7


def load_log(out):
    rows = []
    path = os.path.join(out, "campaign.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r["kind"] == "sample"], [r for r in rows if r["kind"] == "print"]


def files_by_label(out):
    """label -> newest file path (names are LABEL_sSERIES[_k].nxs)."""
    found = {}
    for p in sorted(glob.glob(os.path.join(out, "*", "*.nxs")), key=os.path.getmtime):
        base = os.path.basename(p)
        label = base[: base.rfind("_s")] if "_s" in base else base
        found[label] = p
    return found


def convergence(prints, path):
    n = np.array([p["print"] for p in prints])
    fig, ax = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    s = np.array([p["spacing"] for p in prints])
    pm = np.array([p["pred_spacing"] for p in prints])
    ps = np.array([p["pred_spacing_sd"] for p in prints])
    design = np.array([p["from_design"] for p in prints], bool)
    ax[0].axhspan(TARGET * (1 - TOL), TARGET * (1 + TOL), color="g", alpha=0.2, label="target")
    model = ~design
    ax[0].errorbar(n[model], pm[model], yerr=2 * ps[model], fmt="s", color="0.5", capsize=3,
                   label="model before the print (mean ± 2 sd)")
    ax[0].plot(n, s, "o-", color="C0", label="measured (fitted)")
    ax[0].plot(n, [p["truth_spacing"] for p in prints], "x", color="C3", label="truth")
    ax[0].set_ylabel("domain spacing (nm)")
    ax[0].legend(fontsize=8)
    o = np.array([p["orientation"] for p in prints])
    ax[1].axhline(ORIENT, color="g", ls="--", label="threshold")
    ax[1].plot(n, o, "o-", color="C1", label="measured")
    ax[1].plot(n, [p["truth_orientation"] for p in prints], "x", color="C3", label="truth")
    ax[1].set_ylabel("orientation order")
    ax[1].set_xlabel("print")
    ax[1].legend(fontsize=8)
    fig.suptitle("closed-loop printing: Bayesian optimisation")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def waterfall(nxs, path):
    with h5py.File(nxs, "r") as f:
        q = f["/entry/process/profiles/q"][()]
        i = f["/entry/process/profiles/I"][()]
        t = f["/entry/instrument/printer/time_since_coating"][()]
        title = os.path.basename(nxs)
    fig, ax = plt.subplots(figsize=(7, 4))
    img = np.log10(np.clip(np.nan_to_num(i, nan=1e-3), 1e-3, None))
    ax.pcolormesh(q, np.arange(len(t)), img, shading="nearest")
    ax.set_yticks(np.arange(len(t)))
    ax.set_yticklabels([f"{x:.2f} s" for x in t])
    ax.set_xlabel("q (1/nm)")
    ax.set_ylabel("time since coating")
    ax.set_title(f"drying series, log10 I(q): {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def gisaxs(nxs, model_path, meta, path):
    """The first frame of NXS beside the fitted model image (same log colour scale)."""
    with h5py.File(nxs, "r") as f:
        frame = f["/entry/instrument/detector/data"][0].astype(float)
        ct = float(f["/entry/instrument/detector/count_time"][()] or 0.05)
    model = np.fromfile(model_path, dtype=np.float32).reshape(meta["height"], meta["width"])
    frame[frame >= 4.29e9] = np.nan
    # the fitted scale is the cut's: scale the model image to the frame's counts
    model = model * (np.nansum(frame) / max(float(model.sum()), 1e-30))
    del ct
    vmax = np.nanpercentile(frame, 99.9)
    fig, ax = plt.subplots(1, 2, figsize=(10, 5))
    for a, im, name in ((ax[0], frame, "measured frame"),
                        (ax[1], model, "fitted model (scaled to the frame's counts)")):
        a.imshow(np.log10(np.clip(im, 0.5, None)), vmin=0, vmax=np.log10(max(vmax, 1)),
                 cmap="viridis")
        a.set_title(name)
        a.set_xlabel("column")
        a.set_ylabel("row")
    fig.suptitle(f"{os.path.basename(nxs)}: d = {meta['spacing_nm']:.2f} nm, "
                 f"xi = {meta['corr_len_nm']:.0f} nm, R = {meta['radius_nm']:.1f} nm (log10 counts)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def samples_plot(samples, path):
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    x = np.arange(len(samples))
    names = [s["barcode"] for s in samples]
    ax[0].errorbar(x, [s["spacing"] for s in samples], yerr=[s["spacing_err"] for s in samples],
                   fmt="o", label="fitted")
    ax[0].plot(x, [s["truth_spacing"] for s in samples], "x", color="C3", label="truth")
    ax[0].set_ylabel("domain spacing (nm)")
    ax[1].plot(x, [s["orientation"] for s in samples], "o", label="fitted")
    ax[1].plot(x, [s["truth_orientation"] for s in samples], "x", color="C3", label="truth")
    ax[1].set_ylabel("orientation order")
    for a in ax:
        a.set_xticks(x)
        a.set_xticklabels(names, rotation=45, fontsize=7)
        a.legend(fontsize=8)
    fig.suptitle("samples: fitted parameters")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    out = sys.argv[1]
    rep = os.path.join(out, "report")
    os.makedirs(rep, exist_ok=True)
    samples, prints = load_log(out)
    files = files_by_label(out)
    md = ["# beamloop run report", ""]
    plots = 0
    db = os.path.join(out, "index.sqlite")
    if os.path.exists(db):
        con = sqlite3.connect(db)
        rows = con.execute("SELECT r.kind, r.label, r.status, f.frames, f.untagged, f.path FROM "
                           "files f JOIN runs r ON f.run_id = r.id ORDER BY f.id").fetchall()
        try:
            outcomes = con.execute("SELECT sample, puck, slot, barcode, outcome, location, "
                                   "measured, spacing_nm, orientation FROM sample_outcomes "
                                   "ORDER BY sample").fetchall()
        except sqlite3.OperationalError:
            outcomes = []
        con.close()
        if outcomes:
            md += ["## Samples and their outcomes (index.sqlite, sample_outcomes)", "",
                   "| sample | puck | slot | barcode | outcome | where | measured | spacing (nm) "
                   "| orientation |", "|--:|--:|--:|---|---|---|--:|--:|--:|"]
            md += [f"| {a} | {b} | {c} | {d} | {e} | {f} | {g} | "
                   f"{'' if h is None else f'{h:.2f}'} | {'' if i is None else f'{i:.2f}'} |"
                   for a, b, c, d, e, f, g, h, i in outcomes]
            md.append("")
        md += ["## Runs (index.sqlite)", "", "| kind | label | status | frames | untagged | file |",
               "|---|---|---|--:|--:|---|"]
        md += [f"| {k} | {lab} | {st} | {fr} | {un} | {os.path.relpath(p, out)} |"
               for k, lab, st, fr, un, p in rows]
        md.append("")
    if samples:
        samples_plot(samples, os.path.join(rep, "samples.png"))
        plots += 1
        md += ["## Samples", "", "![samples](samples.png)", "",
               "| sample | barcode | spacing (nm) | orientation | truth |", "|--:|---|--:|--:|---|"]
        md += [f"| {s['sample']} | {s['barcode']} | {s['spacing']:.2f} ± {s['spacing_err']:.2f} | "
               f"{s['orientation']:.2f} | {s['truth_spacing']:.2f} nm, {s['truth_orientation']:.2f} |"
               for s in samples]
        md.append("")
    if prints:
        convergence(prints, os.path.join(rep, "convergence.png"))
        plots += 1
        hit = [p for p in prints if p["reached"]]
        md += ["## Closed-loop printing", "",
               f"Target: spacing {TARGET:.0f} nm ± {100 * TOL:.0f} %, orientation > {ORIENT}. "
               + (f"Reached after {hit[0]['print']} prints." if hit else
                  f"Not reached in {len(prints)} prints."), "", "![convergence](convergence.png)", ""]
        last = hit[0] if hit else prints[-1]
        nxs = files.get(last["label"])
        if nxs:
            waterfall(nxs, os.path.join(rep, "waterfall.png"))
            plots += 1
            md += ["![waterfall](waterfall.png)", ""]
            mj = os.path.join(out, "model.json")
            if os.path.exists(mj):
                with open(mj) as f:
                    meta = json.load(f)
                gisaxs(files.get(meta["label"], nxs), os.path.join(out, "model.f32"), meta,
                       os.path.join(rep, "gisaxs.png"))
                plots += 1
                md += ["![gisaxs](gisaxs.png)", ""]
    with open(os.path.join(rep, "index.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"report: {os.path.join(rep, 'index.md')} ({plots} plots)")


if __name__ == "__main__":
    main()
