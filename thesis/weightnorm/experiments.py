"""The four experiments of ``python -m thesis.weightnorm`` (thesis Chapter 3, Sections 3.3-3.5).

Each function returns a plain dict of results (numbers and arrays), prints a table, and -- when
``out_dir`` is given -- writes its figure there through :mod:`thesis.weightnorm.figures`.

* :func:`convergence`  -- Theorems 3.5.2 / 3.5.3: measured linear rates vs (1 - eta lambda_0/(2 beta^2))
  and (1 - eta mu_0/2), the lower bounds lambda_min(Lambda(s)) >= lambda_0/(2 beta^2) resp. mu_0/2, and
  the V-/G-dominated regimes of Lambda = V/beta^2 + G (3.12).
* :func:`kernel_drift` -- ||Lambda(T) - Lambda(0)||, max_k ||v_k(T) - v_k(0)||, max_k |g_k(T) - g_k(0)| vs m.
* :func:`beta_star`    -- Proposition 8: eta_beta lambda_min(V^inf/beta^2 + G^inf) over beta with
  eta_beta = 1/||V^inf/beta^2 + G^inf||_2; training at beta* vs beta = 1 vs the un-normalised network.
* :func:`norm_growth`  -- (3.5) / Fig. 3.1: ||v_k(s)|| grows under gradient descent, and the growth
  vanishes (proportionally to eta at a fixed time t = eta s) as the step approaches the flow.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ._validate import check_beta, check_positive_int
from .datasets import make_dataset
from .infinite import infinite_width_grams, lambda_max, lambda_min
from .model import ReLUTwoLayer, WNTwoLayer
from .training import linear_rate, train_gd

__all__ = ["convergence", "kernel_drift", "beta_star", "norm_growth", "theory_step_size", "EXPERIMENTS"]


def theory_step_size(beta: float, norm_V_inf: float, Lambda0: torch.Tensor, scale: float = 1.0) -> float:
    """Step sizes of the theorems: eta = scale beta^2/||V^inf||_2 for beta < 1 (Theorem 3.5.2) and
    eta = scale/||Lambda(0)||_2 for beta >= 1 (Theorem 3.5.3)."""
    beta = check_beta(beta)
    if beta < 1:
        return scale * beta ** 2 / norm_V_inf
    return scale / lambda_max(Lambda0)


def _fmt_table(rows: list[dict], cols: Sequence[tuple[str, str]]) -> str:
    head = "  ".join(f"{h:>12}" for h, _ in cols)
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = []
        for _, key in cols:
            val = r[key]
            if isinstance(val, str):
                cells.append(f"{val:>12}")
            elif isinstance(val, (int, np.integer)):
                cells.append(f"{val:>12d}")
            else:
                cells.append(f"{val:>12.6g}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def _slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


# ---------------------------------------------------------------------------------------- convergence
def convergence(datasets: Sequence[str] = ("mnist", "synthetic"),
                betas: Sequence[float] = (0.1, 0.3, 1.0, 3.0, 10.0), n: int = 50, d: int = 64,
                m: int = 2000, steps: int = 1000, seed: int = 0, samples: int = 100_000,
                eta_scale: float = 1.0, device: str | None = None, progress: bool = True,
                out_dir: str | Path | None = None) -> dict:
    """Full-batch GD on (3.7) for each beta; measured rates vs the bounds of Theorems 3.5.2 / 3.5.3.

    Bounds: beta < 1 -> (1 - eta lambda_0/(2 beta^2)) with eta = eta_scale beta^2/||V^inf||;
    beta >= 1 -> (1 - eta mu_0/2) with eta = eta_scale/||Lambda(0)||.  lambda_0, mu_0 are the Monte-Carlo
    least eigenvalues of (3.15)-(3.16).  Also records min_s lambda_min(Lambda(s)) against part 1 of the
    theorems and the beta-curves lambda_min(V(0))/beta^2, lambda_min(G(0)), lambda_min(Lambda(0)).
    """
    n, d, m, steps = (check_positive_int(a, k) for a, k in ((n, "n"), (d, "d"), (m, "m"), (steps, "steps")))
    out: dict = {"rows": [], "curves": {}, "regimes": {}, "params": dict(n=n, d=d, m=m, steps=steps, seed=seed)}
    beta_grid = np.logspace(-2, 2, 81)
    for ds in datasets:
        X, y = make_dataset(ds, n, d, seed=seed)
        inf = infinite_width_grams(X, samples=samples, seed=seed + 1)
        lam0, mu0 = inf["lambda0"], inf["mu0"]
        # the beta-regimes from the beta-independent finite-width kernels V(0), G(0) (Observation 1)
        K0 = WNTwoLayer(d, m, 1.0, seed=seed).gram_matrices(X)
        V0, G0 = K0["V"], K0["G"]
        out["regimes"][ds] = {
            "beta": beta_grid,
            "lmin_V_over_beta2": lambda_min(V0) / beta_grid ** 2,
            "lmin_G": np.full_like(beta_grid, lambda_min(G0)),
            "lmin_Lambda": np.array([lambda_min(V0 / b ** 2 + G0) for b in beta_grid]),
            "lambda0": lam0, "mu0": mu0}
        for beta in betas:
            net = WNTwoLayer(d, m, beta, seed=seed, device=device)
            Xd, yd = X.to(net.v.device), y.to(net.v.device)
            K = net.gram_matrices(Xd)
            eta = theory_step_size(beta, inf["norm_V"], K["Lambda"], eta_scale)
            hist = train_gd(net, Xd, yd, eta, steps, kernel_every=max(steps // 10, 1),
                            progress=progress, desc=f"{ds} beta={beta:g}")
            rate = linear_rate(hist.residual_sq)
            if beta < 1:
                bound, lam_bound, regime = 1 - eta * lam0 / (2 * beta ** 2), lam0 / (2 * beta ** 2), "V"
            else:
                bound, lam_bound, regime = 1 - eta * mu0 / 2, mu0 / 2, "G"
            row = {"dataset": ds, "beta": float(beta), "regime": regime, "eta": eta,
                   "lmin_V0/b2": lambda_min(K["V"]) / beta ** 2, "lmin_G0": lambda_min(K["G"]),
                   "lmin_Lam_min": float(np.min(hist.lambda_min)), "lam_bound": lam_bound,
                   "rate_mean": rate["mean"], "rate_worst": rate["worst"], "rate_bound": bound,
                   "final_rel": float(hist.residual_sq[-1] / hist.residual_sq[0]),
                   "diverged": hist.diverged}
            # sharp linearised prediction: the slowest eigen-direction of Lambda contracts ||r||^2 by
            # (1 - eta lambda_min(Lambda))^2 per step (the theorems keep only eta lambda_min/2 of it)
            row["rate_sharp"] = (1 - eta * row["lmin_Lam_min"]) ** 2
            row["rate_ok"] = bool(rate["mean"] <= bound)
            row["worst_ok"] = bool(rate["worst"] <= bound)
            row["lam_ok"] = bool(row["lmin_Lam_min"] >= lam_bound)
            out["rows"].append(row)
            out["curves"][(ds, float(beta))] = {"residual_sq": hist.residual_sq, "eta": eta, "bound": bound}
        out.setdefault("inf", {})[ds] = {k: inf[k] for k in ("lambda0", "mu0", "norm_V", "norm_G",
                                                             "lambda0_closed", "mu0_closed", "mc_error")}
    print("Convergence (Theorems 3.5.2 / 3.5.3): measured linear rates of ||f(s)-y||^2 vs bounds\n"
          "  rate mean = (r_S/r_0)^(1/S), rate worst = max_s r_{s+1}/r_s, sharp = (1 - eta min_s lmin(Lambda(s)))^2;\n"
          "  ok = mean <= bound / worst <= bound / min_s lmin(Lambda(s)) >= lam bound (part 1)")
    for ds, inf in out.get("inf", {}).items():
        print(f"  {ds}: lambda0 = {inf['lambda0']:.4g} (exact {inf['lambda0_closed']:.4g}), "
              f"mu0 = {inf['mu0']:.4g} (exact {inf['mu0_closed']:.4g}), ||V^inf|| = {inf['norm_V']:.4g}, "
              f"||G^inf|| = {inf['norm_G']:.4g}")
    rows = [dict(r, ok=f"{'Y' if r['rate_ok'] else 'N'}{'Y' if r['worst_ok'] else 'N'}"
                 f"{'Y' if r['lam_ok'] else 'N'}") for r in out["rows"]]
    print(_fmt_table(rows, [("dataset", "dataset"), ("beta", "beta"), ("regime", "regime"), ("eta", "eta"),
                            ("lmin V0/b^2", "lmin_V0/b2"), ("lmin G0", "lmin_G0"),
                            ("min lmin Lam", "lmin_Lam_min"), ("lam bound", "lam_bound"),
                            ("rate mean", "rate_mean"), ("rate worst", "rate_worst"),
                            ("rate bound", "rate_bound"), ("sharp", "rate_sharp"), ("ok m/w/lam", "ok")]))
    if out_dir is not None:
        from .figures import plot_convergence
        out["figure"] = plot_convergence(out, out_dir)
    return out


# ---------------------------------------------------------------------------------------- kernel drift
def kernel_drift(widths: Sequence[int] = (100, 300, 1000, 3000, 10000), betas: Sequence[float] = (0.3, 3.0),
                 dataset: str = "synthetic", n: int = 32, d: int = 64, steps: int = 300, seed: int = 0,
                 eta_scale: float = 1.0, device: str | None = None, progress: bool = True,
                 out_dir: str | Path | None = None) -> dict:
    """Train to (near) zero loss at each width m and measure how far the kernel and neurons moved.

    Reports ||Lambda(T) - Lambda(0)||_2 / ||Lambda(0)||_2, max_k ||v_k(T) - v_k(0)||_2 / beta (v is scaled
    by beta at (3.6)), max_k |g_k(T) - g_k(0)| and the fitted log-log slopes in m (the proofs of Theorems
    3.5.2/3.5.3 bound each by O(1/sqrt(m)), i.e. slope -1/2).
    """
    n, d, steps = (check_positive_int(a, k) for a, k in ((n, "n"), (d, "d"), (steps, "steps")))
    X, y = make_dataset(dataset, n, d, seed=seed)
    from .infinite import closed_form_grams
    norm_V = lambda_max(closed_form_grams(X)["V"])
    rows: list[dict] = []
    out = {"rows": rows, "slopes": {}, "params": dict(dataset=dataset, n=n, d=d, steps=steps)}
    for beta in betas:
        for m in widths:
            net = WNTwoLayer(d, check_positive_int(m, "widths"), beta, seed=seed, device=device)
            Xd, yd = X.to(net.v.device), y.to(net.v.device)
            v0, g0 = net.v.detach().clone(), net.g.detach().clone()
            L0 = net.gram_matrices(Xd)["Lambda"]
            eta = theory_step_size(beta, norm_V, L0, eta_scale)
            hist = train_gd(net, Xd, yd, eta, steps, progress=progress, desc=f"beta={beta:g} m={m}")
            LT = net.gram_matrices(Xd)["Lambda"]
            rows.append({"beta": float(beta), "m": int(m), "eta": eta,
                         "kernel_drift": float(torch.linalg.matrix_norm(LT - L0, 2) / lambda_max(L0)),
                         "max_dv": float((net.v.detach() - v0).norm(dim=1).max()) / beta,
                         "max_dg": float((net.g.detach() - g0).abs().max()),
                         "final_rel": float(hist.residual_sq[-1] / hist.residual_sq[0])})
        sub = [r for r in rows if r["beta"] == float(beta)]
        out["slopes"][float(beta)] = {k: _slope([r["m"] for r in sub], [r[k] for r in sub])
                                      for k in ("kernel_drift", "max_dv", "max_dg")}
    print(f"Kernel drift vs width ({dataset}, n={n}, d={d}, {steps} GD steps)")
    print(_fmt_table(rows, [("beta", "beta"), ("m", "m"), ("eta", "eta"), ("|dLam|/|Lam|", "kernel_drift"),
                            ("max|dv|/beta", "max_dv"), ("max|dg|", "max_dg"), ("final loss", "final_rel")]))
    for b, s in out["slopes"].items():
        print(f"  beta={b:g}: log-log slopes in m  kernel {s['kernel_drift']:+.3f}  "
              f"v {s['max_dv']:+.3f}  g {s['max_dg']:+.3f}   (theory: -0.5)")
    if out_dir is not None:
        from .figures import plot_kernel_drift
        out["figure"] = plot_kernel_drift(out, out_dir)
    return out


# ---------------------------------------------------------------------------------------- beta*
def beta_star(datasets: Sequence[str] = ("mnist", "synthetic"), n: int = 50, d: int = 64, m: int = 2000,
              betas: Sequence[float] | None = None, steps: int = 500, seed: int = 0, samples: int = 100_000,
              device: str | None = None, progress: bool = True, out_dir: str | Path | None = None) -> dict:
    """Proposition 8: scan rho(beta) = eta_beta lambda_min(V^inf/beta^2 + G^inf), eta_beta = 1/||V^inf/beta^2 + G^inf||.

    rho(1) = lambda_min(H^inf)/||H^inf|| is un-normalised training (Proposition 7); beta* = argmax rho.
    Then trains WN at beta*, WN at beta = 1 and the un-normalised network (3.1) (eta = 1/||Lambda(0)||,
    resp. 1/||H(0)||) for ``steps`` steps and compares the measured rates.
    """
    n, d, m, steps = (check_positive_int(a, k) for a, k in ((n, "n"), (d, "d"), (m, "m"), (steps, "steps")))
    grid = np.asarray(betas if betas is not None else np.logspace(-2, 2, 41), dtype=float)
    if grid.ndim != 1 or grid.size < 1 or np.any(~np.isfinite(grid)) or np.any(grid <= 0):
        raise ValueError("betas must be a non-empty sequence of finite numbers > 0")
    if not np.any(np.isclose(grid, 1.0)):
        grid = np.sort(np.append(grid, 1.0))
    out: dict = {"datasets": {}, "params": dict(n=n, d=d, m=m, steps=steps)}
    rows = []
    for ds in datasets:
        X, y = make_dataset(ds, n, d, seed=seed)
        inf = infinite_width_grams(X, samples=samples, seed=seed + 1)
        Vi, Gi = inf["V"], inf["G"]
        Vc, Gc = inf["V_closed"], inf["G_closed"]
        K0 = WNTwoLayer(d, m, 1.0, seed=seed).gram_matrices(X)       # V(0), G(0): beta-independent

        def rho(V: torch.Tensor, G: torch.Tensor) -> np.ndarray:
            vals = [torch.linalg.eigvalsh(V / b ** 2 + G) for b in grid]
            return np.array([float(e[0] / e[-1]) for e in vals])

        r_mc, r_cf, r_fin = rho(Vi, Gi), rho(Vc, Gc), rho(K0["V"], K0["G"])
        i1 = int(np.argmin(np.abs(grid - 1.0)))
        istar = int(np.argmax(r_mc))
        bstar = float(grid[istar])
        res = {"beta": grid, "rho_mc": r_mc, "rho_closed": r_cf, "rho_finite": r_fin, "beta_star": bstar,
               "rho_star": float(r_mc[istar]), "rho_one": float(r_mc[i1])}
        # training: WN at beta*, WN at beta=1, un-normalised (3.1)
        curves = {}
        for label, net in (("WN beta*", WNTwoLayer(d, m, bstar, seed=seed, device=device)),
                           ("WN beta=1", WNTwoLayer(d, m, 1.0, seed=seed, device=device)),
                           ("un-normalised", ReLUTwoLayer(d, m, seed=seed, device=device))):
            Xd, yd = X.to(net.c.device), y.to(net.c.device)
            eta = 1.0 / lambda_max(net.gram_matrices(Xd)["Lambda"])
            h = train_gd(net, Xd, yd, eta, steps, progress=progress, desc=f"{ds} {label}")
            curves[label] = h.residual_sq
            rate = linear_rate(h.residual_sq)
            rows.append({"dataset": ds, "run": label, "beta": bstar if label == "WN beta*" else 1.0,
                         "eta": eta, "rate_mean": rate["mean"], "rate_worst": rate["worst"],
                         "pred_rate": 1 - float(r_mc[istar] if label == "WN beta*" else r_mc[i1]),
                         "final_rel": float(h.residual_sq[-1] / h.residual_sq[0])})
        res["curves"] = curves
        out["datasets"][ds] = res
    out["rows"] = rows
    print("Proposition 8: rho(beta) = lambda_min(Lambda_inf(beta)) / ||Lambda_inf(beta)||")
    for ds, r in out["datasets"].items():
        print(f"  {ds}: beta* = {r['beta_star']:.3g}, rho(beta*) = {r['rho_star']:.4g}, "
              f"rho(1) = {r['rho_one']:.4g} (un-normalised), ratio {r['rho_star'] / r['rho_one']:.3g}; "
              f"rho(0+) ~ {r['rho_mc'][0]:.4g}, rho(inf) ~ {r['rho_mc'][-1]:.4g}")
    print(_fmt_table(rows, [("dataset", "dataset"), ("run", "run"), ("beta", "beta"), ("eta", "eta"),
                            ("rate mean", "rate_mean"), ("rate worst", "rate_worst"),
                            ("1 - rho", "pred_rate"), ("final loss", "final_rel")]))
    if out_dir is not None:
        from .figures import plot_beta_star
        out["figure"] = plot_beta_star(out, out_dir)
    return out


# ---------------------------------------------------------------------------------------- norm growth
def norm_growth(beta: float = 1.0, dataset: str = "synthetic", n: int = 32, d: int = 64, m: int = 1000,
                eta_factors: Sequence[float] = (1.0, 0.1, 0.01), base_steps: int = 60, seed: int = 0,
                records: int = 50, device: str | None = None, progress: bool = True,
                out_dir: str | Path | None = None) -> dict:
    """(3.5) and Fig. 3.1: ||v_k(s)|| under GD with eta = f/||Lambda(0)|| for each factor f, run to the
    same flow time t = eta s (base_steps steps at f = 1).  The relative growth at the final time should
    scale like eta (sum over t/eta steps of eta^2 ||grad_v L||^2), i.e. vanish in the flow limit.
    """
    beta = check_beta(beta)
    base_steps = check_positive_int(base_steps, "base_steps")
    X, y = make_dataset(dataset, n, d, seed=seed)
    rows, runs = [], {}
    for f in eta_factors:
        if not float(f) > 0:
            raise ValueError(f"eta_factors must be > 0, got {f!r}")
        net = WNTwoLayer(d, m, beta, seed=seed, device=device)
        Xd, yd = X.to(net.v.device), y.to(net.v.device)
        eta = float(f) / lambda_max(net.gram_matrices(Xd)["Lambda"])
        steps = int(round(base_steps / float(f)))
        h = train_gd(net, Xd, yd, eta, steps, record_every=max(steps // records, 1), progress=progress,
                     desc=f"eta factor {f:g}")
        nv = np.stack(h.v_norms)                       # (records, m)
        rel = nv / nv[0] - 1.0
        t = np.asarray(h.record_steps) * eta
        runs[float(f)] = {"t": t, "mean_growth": rel.mean(axis=1), "max_growth": rel.max(axis=1),
                          "min_growth": rel.min(axis=1), "residual_sq": h.residual_sq, "eta": eta}
        rows.append({"factor": float(f), "eta": eta, "steps": steps, "mean_growth": float(rel[-1].mean()),
                     "max_growth": float(rel[-1].max()), "min_growth": float(rel[-1].min()),
                     "final_rel": float(h.residual_sq[-1] / h.residual_sq[0])})
    for r in rows:
        r["growth/eta"] = r["mean_growth"] / r["eta"]
    print(f"Norm growth (3.5): relative growth of ||v_k|| at flow time t = {rows[0]['eta'] * rows[0]['steps']:.4g}")
    print(_fmt_table(rows, [("eta factor", "factor"), ("eta", "eta"), ("steps", "steps"),
                            ("mean growth", "mean_growth"), ("max growth", "max_growth"),
                            ("min growth", "min_growth"), ("growth/eta", "growth/eta"),
                            ("final loss", "final_rel")]))
    out = {"rows": rows, "runs": runs, "params": dict(beta=beta, dataset=dataset, n=n, d=d, m=m)}
    if out_dir is not None:
        from .figures import plot_norm_growth
        out["figure"] = plot_norm_growth(out, out_dir)
    return out


EXPERIMENTS = {"convergence": convergence, "kernel_drift": kernel_drift, "beta_star": beta_star,
               "norm_growth": norm_growth}
