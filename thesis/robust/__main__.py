"""CLI: ``python -m thesis.robust train|evaluate``.

    python -m thesis.robust train --quick --reg none --seeds 0 1 2
    python -m thesis.robust train --quick --reg l2  --eta2 0.01 0.1 1 --seeds 0        # η² grid
    python -m thesis.robust train --quick --reg wgm --eta2 0.0001 0.001 0.01 --radius 2 --seeds 0
    python -m thesis.robust train --quick --reg wgm --eta2 0.001 --radius 2 4 --seeds 0 1 2
    python -m thesis.robust evaluate outputs/robust/quick_*_s? --out outputs/robust/eval

``train`` runs every (η², radius, seed) combination given. ``--quick`` (CPU, ~1 min per run on one core):
width 8, 4,000 training / 1,000 test digits, 12 epochs. Without it: width 16, 4,000 / 1,000, 60 epochs.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

import numpy as np
import torch

QUICK = dict(width=8, n_train=4000, n_test=1000, epochs=12)
FULL = dict(width=16, n_train=4000, n_test=1000, epochs=60)
# chosen by the quick grid (seed 0, lowest I-FGSM-20 error): l2 {0.01, 0.1, 1}, wgm {1e-4, 1e-3, 1e-2};
# with degree="volume" the Wasserstein term is ~10³-10⁴× the Euclidean one at equal η²
DEFAULT_ETA2 = {"l2": 0.1, "wgm": 1e-3, "wgm_tikhonov": 1e-3}


def _train(a: argparse.Namespace) -> None:
    from .training import RobustConfig, train_classifier

    base = dict(QUICK if a.quick else FULL)
    for k in ("epochs", "n_train", "n_test"):
        if getattr(a, k) is not None:
            base[k] = getattr(a, k)
    prefix = "quick_" if a.quick else ""
    etas = [0.0] if a.reg == "none" else (a.eta2 or [DEFAULT_ETA2[a.reg]])
    radii = a.radius if a.reg.startswith("wgm") else [a.radius[0]]
    for eta2, radius, seed in itertools.product(etas, radii, a.seeds):
        cfg = RobustConfig(reg=a.reg, eta2=eta2, radius=radius, stencil=a.stencil, degree=a.degree,
                           channels=a.channels, seed=seed, extra={"quick": bool(a.quick)}, **base)
        out = os.path.join(a.out_root, prefix + cfg.name())
        h = train_classifier(cfg, out)["history"]
        last = (lambda k: h[k][-1] if h[k] else float("nan"))
        print(json.dumps({"out": out, "train_err": last("train_err"), "ce": last("ce"), "reg": last("reg"),
                          "diverged": h["diverged"], "seconds": h["seconds"]}))


def _evaluate(a: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .metrics import robust_table, translation_flips
    from .training import load_classifier, robust_data

    os.makedirs(a.out, exist_ok=True)
    rows = []
    missing = [d for d in a.runs if not os.path.isfile(os.path.join(d, "checkpoint.pt"))]
    if missing:
        raise ValueError(f"runs without a checkpoint.pt: {missing}")
    for d in a.runs:
        cfg, model, hist = load_classifier(os.path.join(d, "checkpoint.pt"))
        _, _, Xte, yte = robust_data(cfg.channels, cfg.size, cfg.n_train, cfg.n_test, cfg.seed)
        row = {"run": d, "reg": cfg.reg, "eta2": cfg.eta2, "radius": cfg.radius if cfg.reg.startswith("wgm") else "",
               "seed": cfg.seed, "train_err": hist["train_err"][-1] if hist["train_err"] else float("nan"),
               "diverged": bool(hist.get("diverged", False))}
        if row["diverged"]:  # non-finite weights: every metric is meaningless
            row.update({k: float("nan") for k in ("natural", "fgsm_8", "fgsm_25", "ifgsm20_8",
                                                  "flips_horizontal", "flips_vertical")})
        else:
            row.update(robust_table(model, Xte, yte))
            sub = Xte[:a.n_flip]
            for axis in ("horizontal", "vertical"):
                row[f"flips_{axis}"] = float(translation_flips(model, sub, axis, a.max_shift).mean())
        rows.append(row)
        print(json.dumps(row))
    with open(os.path.join(a.out, "table.json"), "w") as f:
        json.dump(rows, f, indent=1)
    cols = ["train_err", "natural", "fgsm_8", "fgsm_25", "ifgsm20_8", "flips_horizontal", "flips_vertical"]
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["reg"], r["eta2"], r["radius"]), []).append(r)
    lines = ["| regularizer | η² | radius | seeds | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 4)]
    for (reg, eta2, radius), rs in groups.items():
        cells = [f"{np.mean([r[c] for r in rs]):.2f} ± {np.std([r[c] for r in rs]):.2f}" for c in cols]
        lines.append(f"| {reg} | {eta2:g} | {radius} | {len(rs)} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write("Errors in %, flips per sequence (mean ± std over seeds)\n\n" + table + "\n")
    print(table)
    labels = [f"{k[0]} η²={k[1]:g}" + (f" r={k[2]}" if k[2] != "" else "") for k in groups]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for j, c in enumerate(cols[1:5]):
        axes[0].bar(np.arange(len(groups)) + 0.2 * j, [np.mean([r[c] for r in rs]) for rs in groups.values()],
                    0.2, label=c)
    for j, c in enumerate(cols[5:]):
        axes[1].bar(np.arange(len(groups)) + 0.4 * j, [np.mean([r[c] for r in rs]) for rs in groups.values()],
                    0.4, label=c)
    for ax, yl in zip(axes, ("test error (%)", "label flips / sequence")):
        ax.set_xticks(np.arange(len(groups)) + 0.3, labels, fontsize=7, rotation=35, ha="right")
        ax.set_ylabel(yl)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, "robustness.png"), dpi=100)


def main(argv: list[str] | None = None) -> None:
    from .regularizers import REGULARIZERS

    p = argparse.ArgumentParser(prog="python -m thesis.robust", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train classifiers over a grid of η², radius and seeds")
    t.add_argument("--reg", required=True, help=f"one of {REGULARIZERS}")
    t.add_argument("--eta2", type=float, nargs="+", default=None,
                   help="η² values (default: l2 0.1, wgm 0.001 — the quick grid's best on seed 0; wgm_tikhonov 0.001, untuned)")
    t.add_argument("--radius", type=int, nargs="+", default=[2])
    t.add_argument("--stencil", default="square")
    t.add_argument("--degree", default="volume")
    t.add_argument("--channels", type=int, default=1)
    t.add_argument("--seeds", type=int, nargs="+", default=[0])
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--n-train", type=int, default=None)
    t.add_argument("--n-test", type=int, default=None)
    t.add_argument("--quick", action="store_true", help="small CPU configuration")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--out-root", default=os.path.join("outputs", "robust"))
    e = sub.add_parser("evaluate", help="robust errors and translation flips for trained runs")
    e.add_argument("runs", nargs="+")
    e.add_argument("--out", default=os.path.join("outputs", "robust", "eval"))
    e.add_argument("--n-flip", type=int, default=200, help="test images for the translation sequences")
    e.add_argument("--max-shift", type=int, default=16, help="shifts -S..S pixels")
    e.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.cmd == "train":
        if a.reg not in REGULARIZERS:
            p.error(f"--reg must be one of {REGULARIZERS}, got {a.reg!r}")
        if a.eta2 is not None and any(e < 0 for e in a.eta2):
            p.error(f"--eta2 must be >= 0, got {a.eta2}")
        _train(a)
    else:
        _evaluate(a)


if __name__ == "__main__":
    main(sys.argv[1:])
