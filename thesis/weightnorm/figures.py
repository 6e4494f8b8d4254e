"""Figures of the weightnorm experiments (matplotlib, Agg backend); each returns the PNG path."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plotting import plt, save_figure

__all__ = ["plot_convergence", "plot_kernel_drift", "plot_beta_star", "plot_norm_growth"]


def plot_convergence(res: dict, out_dir: str | Path, name: str = "convergence.png", dpi: int = 110) -> Path:
    """Residual curves with the theorem bounds (dashed), and the V-/G-dominated regimes of Lambda(0)."""
    dsets = list(res["regimes"])
    fig, axes = plt.subplots(2, len(dsets), figsize=(5.2 * len(dsets), 7.6), squeeze=False)
    for j, ds in enumerate(dsets):
        ax = axes[0, j]
        keys = [k for k in res["curves"] if k[0] == ds]
        colors = plt.cm.viridis(np.linspace(0, 0.9, len(keys)))
        for col, key in zip(colors, keys):
            c = res["curves"][key]
            r = c["residual_sq"]
            s = np.arange(len(r))
            ax.semilogy(s, r / r[0], color=col, label=f"beta={key[1]:g}")
            ax.semilogy(s, c["bound"] ** s, color=col, ls="--", lw=0.9)
        ax.set_ylim(1e-12, 2)
        ax.set_xlabel("GD step s")
        ax.set_ylabel("||f(s)-y||^2 / ||f(0)-y||^2")
        ax.set_title(f"{ds}: measured (solid) vs bound (dashed)")
        ax.legend(fontsize=8)
        ax = axes[1, j]
        g = res["regimes"][ds]
        ax.loglog(g["beta"], g["lmin_V_over_beta2"], label="lambda_min(V(0))/beta^2")
        ax.loglog(g["beta"], g["lmin_G"], label="lambda_min(G(0))")
        ax.loglog(g["beta"], g["lmin_Lambda"], "k--", label="lambda_min(Lambda(0))")
        ax.axvline(1.0, color="gray", lw=0.7)
        ax.set_xlabel("beta")
        ax.set_title(f"{ds}: V-dominated (beta<1) / G-dominated (beta>1)")
        ax.legend(fontsize=8)
    return save_figure(fig, out_dir, name, dpi=dpi)


def plot_kernel_drift(res: dict, out_dir: str | Path, name: str = "kernel_drift.png") -> Path:
    """Log-log drift of Lambda, v_k, g_k vs width m with an m^{-1/2} guide."""
    keys = [("kernel_drift", "||Lambda(T)-Lambda(0)|| / ||Lambda(0)||"), ("max_dv", "max_k ||v_k(T)-v_k(0)|| / beta"),
            ("max_dg", "max_k |g_k(T)-g_k(0)|")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    betas = sorted({r["beta"] for r in res["rows"]})
    for ax, (k, title) in zip(axes, keys):
        for b in betas:
            sub = [r for r in res["rows"] if r["beta"] == b]
            m = np.array([r["m"] for r in sub], float)
            val = np.array([r[k] for r in sub])
            ax.loglog(m, val, "o-", label=f"beta={b:g} (slope {res['slopes'][b][k]:+.2f})")
        ax.loglog(m, val[0] * np.sqrt(m[0] / m), "k:", label="m^-1/2")
        ax.set_xlabel("width m")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    return save_figure(fig, out_dir, name, dpi=110)


def plot_beta_star(res: dict, out_dir: str | Path, name: str = "beta_star.png") -> Path:
    """rho(beta) scans (MC, exact, finite width) and the training curves at beta*, beta=1, un-normalised."""
    dsets = list(res["datasets"])
    fig, axes = plt.subplots(2, len(dsets), figsize=(5.2 * len(dsets), 7.6), squeeze=False)
    for j, ds in enumerate(dsets):
        r = res["datasets"][ds]
        ax = axes[0, j]
        ax.semilogx(r["beta"], r["rho_mc"], label="Monte-Carlo V^inf, G^inf")
        ax.semilogx(r["beta"], r["rho_closed"], "--", label="closed form")
        ax.semilogx(r["beta"], r["rho_finite"], ":", label="finite width V(0), G(0)")
        ax.axvline(r["beta_star"], color="r", lw=0.8, label=f"beta* = {r['beta_star']:.3g}")
        ax.axvline(1.0, color="gray", lw=0.8)
        ax.set_xlabel("beta")
        ax.set_ylabel("eta_beta lambda_min(Lambda_inf(beta))")
        ax.set_title(f"{ds}: Proposition 8 scan")
        ax.legend(fontsize=8)
        ax = axes[1, j]
        for label, c in r["curves"].items():
            ax.semilogy(c / c[0], label=label)
        ax.set_xlabel("GD step s (eta = 1/||Lambda(0)||)")
        ax.set_ylabel("||f(s)-y||^2 / ||f(0)-y||^2")
        ax.legend(fontsize=8)
    return save_figure(fig, out_dir, name, dpi=110)


def plot_norm_growth(res: dict, out_dir: str | Path, name: str = "norm_growth.png") -> Path:
    """Mean relative growth of ||v_k|| vs flow time t = eta s for each step size (Fig. 3.1, (3.5))."""
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.2))
    for f, run in res["runs"].items():
        axes[0].plot(run["t"], run["mean_growth"], label=f"eta = {run['eta']:.3g}")
        axes[0].fill_between(run["t"], run["min_growth"], run["max_growth"], alpha=0.15)
    axes[0].set_xlabel("flow time t = eta s")
    axes[0].set_ylabel("||v_k(s)|| / ||v_k(0)|| - 1 (mean; band min-max)")
    axes[0].set_title("WN: ||v|| grows under GD, constant under the flow")
    axes[0].legend(fontsize=8)
    eta = np.array([r["eta"] for r in res["rows"]])
    g = np.array([r["mean_growth"] for r in res["rows"]])
    axes[1].loglog(eta, g, "o-", label="final mean growth")
    axes[1].loglog(eta, g[0] * eta / eta[0], "k:", label="proportional to eta")
    axes[1].set_xlabel("step size eta")
    axes[1].legend(fontsize=8)
    return save_figure(fig, out_dir, name, dpi=110)
