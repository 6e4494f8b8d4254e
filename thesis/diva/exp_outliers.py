"""``outliers``: Fig. 2.3 analogue -- detecting mislabelled samples with the LOO dataset derivative.

20% of the training labels are replaced by a label drawn uniformly from the *other* classes (so every
corrupted sample is really mislabelled). lambda is chosen by LOO error on the noisy labels (no clean data
needed). The DIVA score is ∂L_LOO/∂α_i (cross-entropy on all LOO predictions, ``methods.detrimental_scores``);
a sample is flagged when the score is > ε = 0 (eq. 2.14). ROC AUC sweeps the threshold. Baselines: the
per-sample LOO loss and 1 − LOO confidence in the given label (``baselines``), which have no natural
threshold, so all three are also scored by F1 when flagging the top 20% (the true noise rate: an oracle
threshold). The test error of the ridge fit is reported with the noisy labels, after dropping the
DIVA-flagged samples, and with the clean labels.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .experiments import choose_lam, corrupt_labels, load, maybe_tqdm, ridge_error, seed_list
from .report import finish, format_table, mean_std, plt, save_figure

# Thesis Fig. 2.3 (right): AUC of DIVA outlier detection at 20% label noise on six ResNet-34 feature sets
# (the data-set names and the F1 column are not legible in our copy of the thesis).
THESIS_AUC = (0.98, 0.90, 0.98, 0.93, 0.99, 0.97)
SCORES = ("diva", "loo_loss", "confidence")
LABELS = {"diva": "DIVA", "loo_loss": "LOO loss", "confidence": "1-confidence"}


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float((pred & truth).sum())
    denom = float(pred.sum() + truth.sum())
    return 2 * tp / denom if denom else 0.0


def run(*, datasets=("digits", "digits-rff", "mnist-cnn", "mnist-cnn-transfer", "breast_cancer"), seeds=3,
        noise: float = 0.2, train_splits=("train",), max_train: int | None = None, out_dir=None,
        progress: bool = True, verbose: bool = True) -> dict:
    """Returns {"auc": {ds: {score: [per seed]}}, "f1_eps0": {ds: [...]}, "f1_top": {ds: {score: [...]}},
    "precision_eps0"/"recall_eps0": {ds: [...]}, "test_error": {ds: {"noisy"|"drop"|"clean": [...]}},
    "hist": (scores, is_noisy) of the first data set and seed, "table": str, "figure": path | None}."""
    from sklearn.metrics import roc_auc_score, roc_curve

    from .baselines import confidence_scores, loo_loss_scores
    from .methods import detrimental_scores

    seeds = seed_list(seeds)
    split = tuple(train_splits)
    t0 = time.perf_counter()
    auc, f1_top = ({ds: {s: [] for s in SCORES} for ds in datasets} for _ in range(2))
    f1_eps, prec, rec, flagged = ({ds: [] for ds in datasets} for _ in range(4))
    test_err = {ds: {"noisy": [], "drop": [], "clean": []} for ds in datasets}
    hist, roc = None, None
    jobs = [(ds, s) for ds in datasets for s in seeds]
    for ds, seed in maybe_tqdm(jobs, progress, desc="outliers", leave=False):
        d = load(ds, seed, (split, "test"), max_n={split: max_train})
        (Z, y), (Zt, yt) = d[split], d["test"]
        k = int(max(int(y.max()), int(yt.max()))) + 1
        y_noisy, is_noisy = corrupt_labels(y, noise, k, seed)
        lam = choose_lam(Z, y_noisy, k=k)
        Yn = torch.nn.functional.one_hot(y_noisy, k).to(Z.dtype)
        sc = {"diva": detrimental_scores(Z, Yn, lam, loss="ce", misclassified_only=False),
              "loo_loss": loo_loss_scores(Z, Yn, lam),
              "confidence": confidence_scores(Z, Yn, lam)}
        truth = is_noisy.numpy()
        n_top = int(truth.sum())
        for s, v in sc.items():
            v = v.numpy()
            auc[ds][s].append(float(roc_auc_score(truth, v)))
            top = np.zeros_like(truth)
            top[np.argsort(-v, kind="stable")[:n_top]] = True
            f1_top[ds][s].append(_f1(top, truth))
        pred = sc["diva"].numpy() > 0
        f1_eps[ds].append(_f1(pred, truth))
        prec[ds].append(float((pred & truth).sum() / max(pred.sum(), 1)))
        rec[ds].append(float((pred & truth).sum() / max(truth.sum(), 1)))
        flagged[ds].append(float(pred.mean()))
        keep = torch.as_tensor(~pred, dtype=Z.dtype)
        test_err[ds]["noisy"].append(ridge_error(Z, y_noisy, lam, Zt, yt, None, k))
        test_err[ds]["drop"].append(ridge_error(Z, y_noisy, lam, Zt, yt, keep, k))
        test_err[ds]["clean"].append(ridge_error(Z, y, choose_lam(Z, y, k=k), Zt, yt, None, k))
        if hist is None:
            hist = (sc["diva"].numpy(), truth, ds, seed)
            roc = {s: roc_curve(truth, v.numpy())[:2] for s, v in sc.items()}
    res = {"auc": auc, "f1_eps0": f1_eps, "f1_top": f1_top, "precision_eps0": prec, "recall_eps0": rec,
           "flagged": flagged, "test_error": test_err, "hist": hist, "roc": roc, "noise": noise,
           "seeds": seeds, "seconds": time.perf_counter() - t0}
    return finish(res, table, figure, out_dir, verbose)


def _ms(v, d=3) -> str:
    return mean_std(v, digits=d)


def table(res: dict) -> str:
    rows = []
    for ds in res["auc"]:
        rows.append([ds, _ms(res["f1_eps0"][ds], 2), _ms(res["precision_eps0"][ds], 2),
                     _ms(res["recall_eps0"][ds], 2), *(_ms(res["auc"][ds][s]) for s in SCORES),
                     *(_ms(res["f1_top"][ds][s], 2) for s in SCORES)])
    rows.append(None)
    rows.append(["[thesis] 6 sets", "n/a", "", "", f"{min(THESIS_AUC):.2f}-{max(THESIS_AUC):.2f}", "", "", "", "", ""])
    t1 = format_table(
        ["dataset", "F1@eps=0", "precision", "recall", *(f"AUC {LABELS[s]}" for s in SCORES),
         *(f"F1top20 {LABELS[s]}" for s in SCORES)], rows,
        title=f"Fig. 2.3 analogue: mislabelled-sample detection, {res['noise']:.0%} random labels "
              f"(mean ± std over seeds {res['seeds']})",
        note="F1/precision/recall@eps=0: DIVA score > 0 flags a sample (eq. 2.14). F1top20: flag the 20% highest "
             "scores (oracle noise rate).\nLOO loss (cross-entropy -log p) and 1-confidence (1 - p) rank "
             "samples identically, hence equal AUC/F1top20.\n[thesis] AUCs from Fig. 2.3 (ResNet-34 features, "
             "six fine-grained sets: " + ", ".join(f"{a:.2f}" for a in THESIS_AUC)
             + "; names/F1 not legible in our copy; different data sets).")
    rows2 = []
    for ds, e in res["test_error"].items():
        rows2.append([ds, f"{100 * np.mean(res['flagged'][ds]):.1f}%",
                      *(_ms(100 * np.asarray(e[c]), 2) for c in ("noisy", "drop", "clean"))])
    t2 = format_table(["dataset", "flagged", "test err % noisy", "drop flagged", "clean labels"], rows2,
                      title="Test error of the ridge fit trained on the noisy labels, after dropping the "
                            "DIVA-flagged samples, and on clean labels")
    return t1 + "\n\n" + t2


def figure(res: dict, out_dir) -> str:
    scores, truth, ds, seed = res["hist"]
    s = scores / np.abs(scores).max()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.2))
    bins = np.linspace(s.min(), s.max(), 50)
    axes[0].hist(s[~truth], bins=bins, alpha=0.6, label="correct label", color="tab:blue")
    axes[0].hist(s[truth], bins=bins, alpha=0.6, label="mislabelled", color="tab:red")
    axes[0].axvline(0, color="k", lw=0.8, ls="--")
    axes[0].set_xlabel("normalized LOO dataset derivative ∂L/∂α_i (DIVA score)")
    axes[0].set_ylabel("samples")
    axes[0].set_title(f"{ds}, seed {seed}, {res['noise']:.0%} random labels", fontsize=9)
    axes[0].legend(fontsize=7)
    for name, (fpr, tpr) in res["roc"].items():
        a = res["auc"][ds][name][0]
        axes[1].plot(fpr, tpr, label=f"{LABELS[name]} (AUC {a:.3f})")
    axes[1].plot([0, 1], [0, 1], color="gray", lw=0.6, ls=":")
    axes[1].set_xlabel("false positive rate")
    axes[1].set_ylabel("true positive rate")
    axes[1].set_title("mislabel detection ROC", fontsize=9)
    axes[1].legend(fontsize=7)
    return str(save_figure(fig, out_dir, "outliers.png"))
