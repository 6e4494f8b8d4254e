"""``overfit``: Fig. 2.6 analogue -- validation vs test error as DIVA Reweight runs on a validation loss.

α is optimized by ``methods.reweight(val=(Z_val, Y_val))`` (eq. 2.10, cross-entropy on all validation
predictions) for many steps; the ridge fit of every intermediate α (``ReweightResult.history``) is scored on
the validation set it was optimized on and on the held-out test set. Appendix 2.A.1: the validation error
keeps falling while the test error improves for a few steps and then rises (overfitting to the validation
set); larger step sizes get there sooner. A small validation subset (``n_val``) makes the effect visible.
"""
from __future__ import annotations

import time

import numpy as np

from .experiments import choose_lam, error, fit, load, maybe_tqdm, seed_list
from .report import band, finish, format_table, pct, plt, save_figure


def run(*, datasets=("digits",), seeds=3, steps: int = 40, lrs=(0.05, 0.15, 0.5), n_val: int | None = 100,
        max_train: int | None = None, out_dir=None, progress: bool = True, verbose: bool = True) -> dict:
    """Returns {"val": {(ds, lr): (seeds, steps+1)}, "test": {...}, "table": str, "figure": path | None};
    errors in [0, 1]."""
    from .methods import reweight

    seeds = seed_list(seeds)
    lrs = tuple(float(v) for v in lrs)
    t0 = time.perf_counter()
    val_c, test_c = {}, {}
    jobs = [(ds, s) for ds in datasets for s in seeds]
    for ds, seed in maybe_tqdm(jobs, progress, desc="overfit", leave=False):
        d = load(ds, seed, ("train", "val", "test"), max_n={"train": max_train, "val": n_val})
        (Z, y), (Zv, yv), (Zt, yt) = d["train"], d["val"], d["test"]
        k = int(max(int(y.max()), int(yv.max()), int(yt.max()))) + 1
        lam = choose_lam(Z, y, k=k)
        for lr in lrs:
            r = reweight(Z, y, lam, steps=steps, lr=lr, loss="ce", misclassified_only=False, val=(Zv, yv))
            Ws = [fit(Z, y, lam, h.alpha, k) for h in r.history]
            val_c.setdefault((ds, lr), []).append([error(W, Zv, yv) for W in Ws])
            test_c.setdefault((ds, lr), []).append([error(W, Zt, yt) for W in Ws])
    res = {"val": {key: np.asarray(v) for key, v in val_c.items()},
           "test": {key: np.asarray(v) for key, v in test_c.items()},
           "steps": steps, "lrs": lrs, "n_val": n_val, "seeds": seeds, "seconds": time.perf_counter() - t0}
    return finish(res, table, figure, out_dir, verbose)


def table(res: dict) -> str:
    rows = []
    marks = sorted({0, 1, 2, 4, 10, res["steps"]} & set(range(res["steps"] + 1)))
    for key in res["val"]:
        v, t = res["val"][key], res["test"][key]
        best = int(t.mean(0).argmin())
        rows.append([f"{key[0]} eta={key[1]:g}", "val", *(pct(v[:, s]) for s in marks), ""])
        rows.append(["", "test", *(pct(t[:, s]) for s in marks), f"{best} ({pct(t[:, best])})"])
    return format_table(
        ["dataset / step size", "error %", *(f"step {s}" for s in marks), "best test step"], rows,
        title=f"Fig. 2.6 analogue: DIVA Reweight on a validation loss ({res['n_val'] or 'all'} validation "
              f"samples), error vs steps (mean ± std over seeds {res['seeds']})",
        note="[thesis] Fig. 2.6 (Caltech-256): validation error falls steadily, test error falls for < 5 steps "
             "at eta ~ 0.1 and then rises (curve values not legible in our copy; different data set).")


def figure(res: dict, out_dir) -> str:
    keys = list(res["val"])
    fig, axes = plt.subplots(1, len(keys), figsize=(4.0 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        x = np.arange(res["steps"] + 1)
        band(ax, x, 100 * res["val"][key], "validation (optimized)", color="tab:orange")
        band(ax, x, 100 * res["test"][key], "test", color="tab:green")
        ax.set_xlabel("reweighting step")
        ax.set_ylabel("error (%)")
        ax.set_title(f"{key[0]}, eta={key[1]:g}", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("DIVA Reweight on L_val: overfitting the validation set (Fig. 2.6 analogue)", fontsize=9)
    return str(save_figure(fig, out_dir, "overfit.png"))
