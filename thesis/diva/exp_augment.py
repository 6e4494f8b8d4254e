"""``augment``: Fig. 2.5 (left) analogue -- DIVA weights of flip augmentations on digit images.

D^aug = D ∪ hflip(D) ∪ vflip(D) (labels unchanged), with the features recomputed on the flipped images by the
same frozen feature map (:func:`.features.image_features`). DIVA Reweight on D^aug
(``methods.augmentation_weights``) gives p_k = Σ_{i∈t_k} α_i / Σ_i α_i (uniform: 1/3 each); we also report
it per class, p_{k,c} = Σ_{i∈t_k, y_i=c} α_i / Σ_{y_i=c} α_i. The default objective is the cross-entropy on
the un-augmented validation split (the flipped samples are judged by how they help on real digits);
``objective="loo"`` uses the LOO loss over D^aug itself (misclassified LOO predictions only, as Table 2.1).
Expectation from the thesis (SVHN): both flips are penalized for digits, most for classes whose flip is
another digit or no digit (2, 3, 4, 5, 6, 7, 9) and least for the (near-)symmetric 0, 1, 8.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .experiments import choose_lam, maybe_tqdm, ridge_error, seed_list, with_bias
from .extractors import image_features, image_splits
from .report import finish, format_table, mean_std, plt, save_figure

NAMES = ("identity", "hflip", "vflip")
FLIPS = (lambda X: X, lambda X: X[:, :, ::-1], lambda X: X[:, ::-1, :])


def run(*, datasets=("digits", "digits-rff"), seeds=3, steps: int = 4, lr: float = 0.15, objective: str = "val",
        max_train: int | None = None, out_dir=None, progress: bool = True, verbose: bool = True) -> dict:
    """Returns {"p": {ds: (seeds, 3)}, "p_class": {ds: (seeds, 10, 3)}, "test_error": {ds: {"original",
    "uniform aug", "DIVA aug": [...]}}, "table": str, "figure": path | None}."""
    from .methods import augmentation_weights

    if objective not in ("val", "loo"):
        raise ValueError(f"objective must be 'val' or 'loo', got {objective!r}")
    seeds = seed_list(seeds)
    t0 = time.perf_counter()
    p, p_class, test_err = {}, {}, {}
    jobs = [(ds, s) for ds in datasets for s in seeds]
    for ds, seed in maybe_tqdm(jobs, progress, desc="augment", leave=False):
        sp = image_splits(ds, seed=seed)
        X, y = sp["train"]
        if max_train is not None and max_train < len(y):
            idx = np.random.default_rng(seed + 17).choice(len(y), max_train, replace=False)
            X, y = X[idx], y[idx]
        y = torch.as_tensor(y)
        feats = [with_bias(image_features(ds, np.ascontiguousarray(f(X)), seed=seed)) for f in FLIPS]
        Zv = with_bias(image_features(ds, sp["val"][0], seed=seed))
        Zt = with_bias(image_features(ds, sp["test"][0], seed=seed))
        yv, yt = torch.as_tensor(sp["val"][1]), torch.as_tensor(sp["test"][1])
        k = int(max(int(y.max()), int(yt.max()))) + 1
        Z_aug = torch.cat(feats)
        y_aug = y.repeat(len(FLIPS))
        groups = torch.arange(len(FLIPS)).repeat_interleave(len(y))
        lam = choose_lam(feats[0], y, k=k)
        Y_aug = torch.nn.functional.one_hot(y_aug, k).to(Z_aug.dtype)
        val = (Zv, torch.nn.functional.one_hot(yv, k).to(Zv.dtype)) if objective == "val" else None
        aw = augmentation_weights(Z_aug, Y_aug, groups, lam, steps=steps, lr=lr, loss="ce", val=val,
                                  names=NAMES, misclassified_only=(objective == "loo"))
        a = aw.alpha.double()
        p.setdefault(ds, []).append(aw.p.numpy())
        pc = np.zeros((k, len(FLIPS)))
        for c in range(k):
            m = torch.stack([a[(groups == j) & (y_aug == c)].sum() for j in range(len(FLIPS))])
            pc[c] = (m / m.sum().clamp_min(1e-300)).numpy()
        p_class.setdefault(ds, []).append(pc)
        e = test_err.setdefault(ds, {"original": [], "uniform aug": [], "DIVA aug": []})
        e["original"].append(ridge_error(feats[0], y, lam, Zt, yt, None, k))
        e["uniform aug"].append(ridge_error(Z_aug, y_aug, lam, Zt, yt, None, k))
        e["DIVA aug"].append(ridge_error(Z_aug, y_aug, lam, Zt, yt, a, k))
    res = {"p": {d: np.asarray(v) for d, v in p.items()}, "p_class": {d: np.asarray(v) for d, v in p_class.items()},
           "test_error": test_err, "names": NAMES, "objective": objective, "steps": steps, "lr": lr,
           "seeds": seeds, "seconds": time.perf_counter() - t0}
    return finish(res, table, figure, out_dir, verbose)


def _ms(v) -> str:
    return mean_std(v, digits=3)


def table(res: dict) -> str:
    out = []
    for ds, pc in res["p_class"].items():
        rows = [[str(c), *(_ms(pc[:, c, j]) for j in range(len(NAMES)))] for c in range(pc.shape[1])]
        rows.append(None)
        rows.append(["all", *(_ms(res["p"][ds][:, j]) for j in range(len(NAMES)))])
        rows.append(["[thesis] SVHN", "highest", "penalized", "penalized"])
        out.append(format_table(
            ["class", *(f"p_{n}" for n in NAMES)], rows,
            title=f"Fig. 2.5 (left) analogue on {ds}: augmentation probabilities p_k per class (uniform = 0.333; "
                  f"mean ± std over seeds {res['seeds']}; objective {res['objective']}, K={res['steps']}, "
                  f"eta={res['lr']})",
            note="[thesis] Fig. 2.5 on SVHN digits: both flips penalized (bar heights not legible in our copy)."))
        e = res["test_error"][ds]
        out.append("test error %: " + ", ".join(
            f"{name} {100 * np.mean(v):.2f} ± {100 * np.std(v, ddof=1) if len(v) > 1 else 0:.2f}"
            for name, v in e.items()))
    return "\n\n".join(out)


def figure(res: dict, out_dir) -> str:
    ds = list(res["p_class"])
    fig, axes = plt.subplots(1, len(ds), figsize=(6.0 * len(ds), 3.0), squeeze=False)
    for ax, d in zip(axes[0], ds):
        pc = res["p_class"][d]
        m, s = pc.mean(0), pc.std(0)
        x = np.arange(m.shape[0] + 1)
        w = 0.27
        glob = res["p"][d]
        for j, n in enumerate(NAMES):
            ax.bar(x + (j - 1) * w, [*m[:, j], glob[:, j].mean()], w, yerr=[*s[:, j], glob[:, j].std()],
                   label=n, capsize=1.5)
        ax.axhline(1 / 3, color="gray", ls=":", lw=0.8)
        ax.set_xticks(x, [*map(str, range(m.shape[0])), "all"])
        ax.set_xlabel("digit class")
        ax.set_ylabel("p_k")
        ax.set_title(f"DIVA flip weights on {d} (Fig. 2.5 left analogue)", fontsize=9)
        ax.legend(fontsize=7)
    return str(save_figure(fig, out_dir, "augment.png"))
