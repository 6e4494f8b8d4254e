"""CLI: ``python -m thesis.gan train|evaluate``.

    python -m thesis.gan train --penalty wgm --quick --seed 0 --out outputs/gan/wgm_s0
    python -m thesis.gan train --penalty l2  --quick --seed 0 --out outputs/gan/l2_s0
    python -m thesis.gan evaluate outputs/gan/l2_s0 outputs/gan/wgm_s0 --out outputs/gan/eval
    python -m thesis.gan time --dim 64 --batch 64 --steps 20      # interleaved critic-step timing

``--quick`` (CPU, ~3-4 min per run on one core): dim 16, 300 generator iterations (≈ 1.6 epochs of critic
batches). Without it: dim 64, 20,000 iterations (a GPU configuration).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch

QUICK = dict(dim=16, iters=300)
FULL = dict(dim=64, iters=20000)


def _train(a: argparse.Namespace) -> None:
    from .training import GANConfig, train_gan

    base = dict(QUICK if a.quick else FULL)
    for k in ("dim", "iters"):
        if getattr(a, k) is not None:
            base[k] = getattr(a, k)
    cfg = GANConfig(penalty=a.penalty, channels=a.channels, lam=a.lam, n_critic=a.n_critic, batch=a.batch,
                    lr=a.lr, stencil=a.stencil, radius=a.radius, degree=a.degree, alpha=a.alpha, seed=a.seed,
                    extra={"quick": bool(a.quick)}, **base)
    out = a.out or os.path.join("outputs", "gan", f"{a.penalty}_c{a.channels}_s{a.seed}")
    res = train_gan(cfg, out)
    h = res["history"]
    print(json.dumps({"out": out, "final_wdist": h["wdist"][-1], "final_gp": h["gp"][-1],
                      "critic_step_ms": 1e3 * float(np.mean(h["critic_step_s"])),
                      "seconds_per_epoch": h["seconds_per_epoch"]}))


def _evaluate(a: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .data import gan_data
    from .frechet import classifier_frechet_distance, train_feature_net
    from .metrics import noise_robustness, translation_curves, translation_table
    from .training import load_checkpoint

    os.makedirs(a.out, exist_ok=True)
    missing = [d for d in a.runs if not os.path.isfile(os.path.join(d, "checkpoint.pt"))]
    if missing:
        raise ValueError(f"runs without a checkpoint.pt: {missing}")
    runs = [load_checkpoint(os.path.join(d, "checkpoint.pt")) + (d,) for d in a.runs]
    cfg0 = runs[0][0]
    if any((c.channels, c.size, c.n_test) != (cfg0.channels, cfg0.size, cfg0.n_test) for c, *_ in runs):
        raise ValueError("runs must share channels, size and n_test")
    torch.manual_seed(0)
    Xtr, ytr, Xte, _ = gan_data(cfg0.channels, cfg0.size, cfg0.n_test, cfg0.seed)
    Xev = Xte[:a.n_eval]
    fnet = train_feature_net(Xtr[:a.fd_train], ytr[:a.fd_train], epochs=a.fd_epochs, seed=0)
    # floor of the metric: held-out real digits vs 500 training digits (sampling noise only)
    fd_floor = classifier_frechet_distance(fnet, Xte, Xtr[-len(Xte):])
    rows = []
    fig_t, ax_t = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3), squeeze=False)
    fig_n, ax_n = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3), squeeze=False)
    for j, (cfg, G, D, hist, d) in enumerate(runs):
        row = {"run": d, "penalty": cfg.penalty, "seed": cfg.seed, "iters": cfg.iters}
        with torch.no_grad():
            g = torch.Generator().manual_seed(1)
            fake = G(torch.randn(len(Xte), cfg.nz, generator=g))
            mid = 0.5 * float(D(Xte).mean() + D(fake).mean())
        row.update(translation_table(D, Xev))
        centred = translation_table(D, Xev, offset=mid)
        for axis in ("vertical", "horizontal"):
            row[f"{axis}_zero_crossings_mid"] = centred[f"{axis}_zero_crossings"]
        nr = noise_robustness(D, Xev, p=0.15, seed=0)
        row.update(noise_shift=nr["shift"], noise_mean_abs_change=nr["mean_abs_change"])
        row["classifier_fd"] = classifier_frechet_distance(fnet, Xte, fake)
        row["classifier_fd_real_floor"] = fd_floor
        row["critic_step_ms"] = 1e3 * float(np.mean(hist["critic_step_s"]))
        row["seconds_per_epoch"] = hist["seconds_per_epoch"]
        rows.append(row)
        curves = translation_curves(D, Xev[:8], "vertical")
        ax_t[0, j].plot(curves.T)
        ax_t[0, j].axhline(0, color="k", lw=0.5)
        ax_t[0, j].set(title=f"{cfg.penalty} s{cfg.seed}", xlabel="vertical shift (px)", ylabel="critic")
        ax_n[0, j].hist([nr["clean"], nr["noisy"]], bins=30, label=["clean", "15% s&p"])
        ax_n[0, j].set(title=f"{cfg.penalty} s{cfg.seed}", xlabel="critic value")
        ax_n[0, j].legend()
        grid = (fake[:64].clamp(-1, 1) + 1) / 2
        grid = grid.reshape(8, 8, *grid.shape[1:]).permute(0, 3, 1, 4, 2).reshape(8 * cfg.size, 8 * cfg.size, -1)
        plt.imsave(os.path.join(a.out, f"samples_{j}_{cfg.penalty}_s{cfg.seed}.png"),
                   grid.squeeze(-1).numpy() if cfg.channels == 1 else grid.numpy(), cmap="gray")
    fig_t.tight_layout()
    fig_t.savefig(os.path.join(a.out, "translation_curves.png"), dpi=100)
    fig_n.tight_layout()
    fig_n.savefig(os.path.join(a.out, "noise_histograms.png"), dpi=100)
    with open(os.path.join(a.out, "table.json"), "w") as f:
        json.dump(rows, f, indent=1)
    cols = ["penalty", "seed", "vertical_ntv", "vertical_zero_crossings", "vertical_zero_crossings_mid",
            "horizontal_ntv", "horizontal_zero_crossings", "horizontal_zero_crossings_mid", "noise_shift", "classifier_fd", "critic_step_ms", "seconds_per_epoch"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |"
              for r in rows]
    by_pen: dict = {}
    for r in rows:
        by_pen.setdefault(r["penalty"], []).append(r)
    lines += ["", "mean ± std over runs:", ""]
    for pen, rs in by_pen.items():
        lines.append(f"- {pen} (n={len(rs)}): " + ", ".join(
            f"{c} {np.mean([r[c] for r in rs]):.3g} ± {np.std([r[c] for r in rs]):.2g}" for c in cols[2:]))
    table = "\n".join(lines)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(table + "\n")
    print(table)


def _time(a: argparse.Namespace) -> None:
    from .timing import critic_step_times

    r = critic_step_times(channels=a.channels, dim=a.dim, batch=a.batch, steps=a.steps, radius=a.radius)
    print(json.dumps(r))
    if a.out:
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(r, f)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m thesis.gan", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train one WGAN-GP (l2) or WWGAN (wgm)")
    t.add_argument("--penalty", required=True, help="l2 (WGAN-GP) or wgm (WWGAN, Algorithm 2)")
    t.add_argument("--quick", action="store_true", help="small CPU configuration")
    t.add_argument("--channels", type=int, default=1, help="1 (grey MNIST) or 3 (colourized)")
    t.add_argument("--dim", type=int, default=None)
    t.add_argument("--iters", type=int, default=None, help="generator iterations")
    t.add_argument("--lam", type=float, default=10.0)
    t.add_argument("--n-critic", type=int, default=5)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--stencil", default="diamond")
    t.add_argument("--radius", type=int, default=2)
    t.add_argument("--degree", default="volume")
    t.add_argument("--alpha", type=float, default=1.0)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--out", default=None)
    e = sub.add_parser("evaluate", help="metrics, figures and a table for trained runs")
    e.add_argument("runs", nargs="+", help="run directories holding checkpoint.pt")
    e.add_argument("--out", default=os.path.join("outputs", "gan", "eval"))
    e.add_argument("--n-eval", type=int, default=200, help="test images for translation / noise metrics")
    e.add_argument("--fd-epochs", type=int, default=3)
    e.add_argument("--fd-train", type=int, default=4500, help="training digits for the feature classifier")
    e.add_argument("--threads", type=int, default=1)
    m = sub.add_parser("time", help="interleaved critic-step timing, l2 vs wgm (Fig. 1.7 overhead)")
    m.add_argument("--channels", type=int, default=1)
    m.add_argument("--dim", type=int, default=64)
    m.add_argument("--batch", type=int, default=64)
    m.add_argument("--steps", type=int, default=20)
    m.add_argument("--radius", type=int, default=2)
    m.add_argument("--threads", type=int, default=1)
    m.add_argument("--out", default=None)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.cmd == "train":
        from .penalties import PENALTIES

        if a.penalty not in PENALTIES:
            p.error(f"--penalty must be one of {PENALTIES}, got {a.penalty!r}")
        _train(a)
    elif a.cmd == "time":
        _time(a)
    else:
        _evaluate(a)


if __name__ == "__main__":
    main(sys.argv[1:])
