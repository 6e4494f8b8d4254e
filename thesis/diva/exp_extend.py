"""``extend``: Table 2.2 / Fig. 2.4 analogue -- DIVA Extend vs uniform addition of pool samples.

Appendix 2.A.2: the training data is split 50/50 into a core set and a pool of the same distribution (here
the "train" and "pool" splits of :mod:`.features`); both methods add ``n_pool // n_steps`` pool samples per
step, DIVA Extend LOO by most negative dataset derivative, "Uniform" at random, and the test error is
compared at 50% of the pool. DIVA stops by itself when no remaining pool sample has a negative derivative
(its "DIVA stop" point); past it the curve continues with ``stop_at_nonnegative=False`` (the samples with
the lowest derivative are still added first: the "forced to add all" continuation).

Rows "<ds>@k" (``experiments.LOW_DATA``): the low-data regime of the thesis's fine-grained sets -- core =
k samples per class of "train", pool = k per class of "pool" (test split unchanged), lambda re-chosen by
LOO on the core, over ``low_data_seeds`` seeds.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .experiments import (LOW_DATA, LOW_DATA_SEEDS, choose_lam, load, maybe_tqdm, ridge_error, row_seeds, seed_list,
                          win_tie_loss)
from .report import band, finish, format_table, low_data_note, pct, plt, save_figure

# Thesis Table 2.2 (ResNet-34 features): test error % at 50% of the pool added -- different data sets.
THESIS_TABLE_2_2 = {  # dataset: (DIVA Extend, Uniform, improvement)
    "Aircrafts": (58.00, 60.01, 2.01),
    "Cub-200": (39.42, 42.29, 2.87),
    "MIT Indoor-67": (32.54, 33.73, 1.19),
    "Oxford Flowers": (20.56, 23.29, 2.73),
    "Stanford Cars": (60.37, 62.45, 2.09),
    "Caltech-256": (21.97, 24.55, 2.59),
}


def run(*, datasets=("digits", "digits-rff", "mnist-cnn", "mnist-cnn-transfer", *LOW_DATA), seeds=3,
        n_steps: int = 20, max_core: int | None = None, max_pool: int | None = None,
        low_data_seeds: int | None = LOW_DATA_SEEDS, out_dir=None, progress: bool = True,
        verbose: bool = True) -> dict:
    """Test-error curves vs number of added pool samples for DIVA Extend and uniform selection.

    Returns {"curves": {ds: {"sizes": (n_steps+1,), "diva": (seeds, n_steps+1), "uniform": ...}},
    "at50": {ds: {"diva": [...], "uniform": [...]}}, "all_pool": {ds: [...]}, "stop": {ds: [#added at the
    DIVA stop]}, "stop_error": {ds: [...]}, "row_seeds": {ds: [seeds]}, "table": str, "figure": path | None};
    errors in [0, 1]. A data set "<name>@k" has k samples per class in both core and pool and, when ``seeds``
    has fewer, ``low_data_seeds`` seeds (``experiments.row_seeds``)."""
    from .baselines import uniform_extend
    from .methods import extend

    seeds = seed_list(seeds)
    t0 = time.perf_counter()
    curves, at50, all_pool, stop, stop_err, lams, sizes_of = {}, {}, {}, {}, {}, {}, {}
    rseeds = {ds: row_seeds(ds, seeds, low_data_seeds) for ds in datasets}
    jobs = [(ds, s) for ds in datasets for s in rseeds[ds]]
    for ds, seed in maybe_tqdm(jobs, progress, desc="extend", leave=False):
        d = load(ds, seed, ("train", "pool", "test"), max_n={"train": max_core, "pool": max_pool})
        (Zc, yc), (Zp, yp), (Zt, yt) = d["train"], d["pool"], d["test"]
        k = int(max(int(yc.max()), int(yp.max()), int(yt.max()))) + 1
        lam = choose_lam(Zc, yc, k=k)
        npool = len(yp)
        step = max(1, npool // n_steps)
        sizes = [min(j * step, npool) for j in range(n_steps + 1)]
        sizes[-1] = npool
        # DIVA Extend: natural stop, then forced continuation from where it stopped
        nat = extend(Zc, yc, Zp, yp, lam, step_size=step, max_steps=None)
        forced = extend(Zc, yc, Zp, yp, lam, step_size=step, max_steps=None, stop_at_nonnegative=False)
        order = nat.order.tolist()
        chosen = set(order)
        order += [i for i in forced.order.tolist() if i not in chosen]
        order = torch.tensor(order, dtype=torch.long)
        uni = uniform_extend(npool, npool, generator=torch.Generator().manual_seed(1000 + seed))

        def err_with(idx):
            Z = torch.cat([Zc, Zp[idx]])
            y = torch.cat([yc, yp[idx]])
            return ridge_error(Z, y, lam, Zt, yt, None, k)

        c = curves.setdefault(ds, {"sizes": np.asarray(sizes), "diva": [], "uniform": []})
        c["diva"].append([err_with(order[:s]) for s in sizes])
        c["uniform"].append([err_with(uni[:s]) for s in sizes])
        half = npool // 2
        a = at50.setdefault(ds, {"diva": [], "uniform": []})
        a["diva"].append(err_with(order[:half]))
        a["uniform"].append(err_with(uni[:half]))
        all_pool.setdefault(ds, []).append(c["diva"][-1][-1])
        stop.setdefault(ds, []).append(len(nat.order))
        stop_err.setdefault(ds, []).append(err_with(nat.order))
        lams.setdefault(ds, []).append(lam)
        sizes_of[ds] = (len(yc), npool)
    for c in curves.values():
        c["diva"], c["uniform"] = np.asarray(c["diva"]), np.asarray(c["uniform"])
    res = {"curves": curves, "at50": at50, "all_pool": all_pool, "stop": stop, "stop_error": stop_err,
           "lam": lams, "sizes": sizes_of, "seeds": seeds, "row_seeds": rseeds, "n_steps": n_steps,
           "seconds": time.perf_counter() - t0}
    return finish(res, table, figure, out_dir, verbose)


def table(res: dict) -> str:
    rows = []
    for ds, a in res["at50"].items():
        nc, npool = res["sizes"][ds]
        imp = np.asarray(a["uniform"]) - np.asarray(a["diva"])
        rows.append([ds, f"{nc}/{npool}", pct(a["diva"]), pct(a["uniform"]), pct(imp, signed=True),
                     win_tie_loss(imp), pct(res["all_pool"][ds]), f"{np.mean(res['stop'][ds]) / npool:.0%}",
                     pct(res["stop_error"][ds])])
    rows.append(None)
    for name, (dv, un, imp) in THESIS_TABLE_2_2.items():
        rows.append([f"[thesis] {name}", "", f"{dv:.2f}", f"{un:.2f}", f"+{imp:.2f}", "", "", "", ""])
    th = np.mean([v[-1] for v in THESIS_TABLE_2_2.values()])
    return format_table(
        ["dataset", "core/pool", "DIVA Extend @50%", "Uniform @50%", "Improvement", "W-T-L", "all pool",
         "DIVA stop", "err @ DIVA stop"], rows,
        title=f"Table 2.2 analogue: test error % after adding 50% of the pool (mean ± std over seeds "
              f"{res['seeds']}{low_data_note(res)}; {res['n_steps']} equal steps)",
        note="Improvement = Uniform - DIVA (paired per seed); W-T-L: seeds where DIVA Extend won-tied-lost.\n"
             "Rows '<ds>@k': low-data regime, core = k per class of the train split, pool = k per class of "
             "the pool split (per seed; test split unchanged; lambda by LOO on the core).\n"
             "DIVA stop: pool fraction DIVA Extend added before no pool derivative was negative.\n"
             f"[thesis] rows: Table 2.2, ResNet-34 features on fine-grained sets (different data sets; mean "
             f"thesis improvement +{th:.2f}).")


def figure(res: dict, out_dir) -> str:
    ds = list(res["curves"])
    ncol = min(len(ds), 5)
    nrow = -(-len(ds) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.3 * nrow), squeeze=False)
    for ax in axes.flat[len(ds):]:
        ax.set_visible(False)
    for ax, d in zip(axes.flat, ds):
        c = res["curves"][d]
        x = c["sizes"]
        band(ax, x, 100 * c["diva"], "DIVA Extend", color="tab:red")
        band(ax, x, 100 * c["uniform"], "Uniform", color="tab:blue")
        ax.axvline(np.mean(res["stop"][d]), color="tab:red", ls=":", lw=1, label="DIVA stop (mean)")
        ax.set_xlabel("pool samples added")
        ax.set_ylabel("test error (%)")
        ax.set_title(f"{d} (core {res['sizes'][d][0]})")
        ax.legend(fontsize=7)
    fig.suptitle(f"DIVA Extend vs uniform (Fig. 2.4 analogue), mean ± std over {len(res['seeds'])} seeds"
                 f"{low_data_note(res)}",
                 fontsize=9)
    return str(save_figure(fig, out_dir, "extend.png"))
