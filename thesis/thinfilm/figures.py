"""Figures 4.3-4.7, 4.9, 4.12-4.14 and 4.4 of Chapter 4, and the measured-vs-thesis values they
yield.  Each `fig_*` runs the solver, writes a PNG into `outdir` and returns a list of table rows
(dict(figure, quantity, thesis, measured, note))."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .analysis import find_fronts, leading_front, plateau
from .grid import f
from .shocks import classify_shock, rarefaction_profile
from .simulate import simulate
from .stepper import StepperOptions
from .waves import REGIONS, bifurcation_diagram, classify_region, undercompressive_state


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _row(fig, quantity, thesis, measured, note=""):
    return dict(figure=fig, quantity=quantity, thesis=thesis, measured=measured, note=note)


def meniscus_run(D, b, t_end, dx=0.05, x_left=10.0, L=80.0, A=0.0, x0=None, n_save=8,
                 progress=True, right_state=None, floor=0.0):
    """Meniscus run (4.16)-(4.17) saved at n_save equally spaced times (floor: see
    StepperOptions.positivity_floor)."""
    N = int(round(L / dx))
    ts = np.linspace(0.0, t_end, n_save + 1)[1:]
    return simulate("meniscus", t_end=t_end, D=D, b=b if right_state is None else right_state,
                    L=L, N=N, x_left=x_left, A=A, x0=x0, save_times=ts, progress=progress,
                    options=StepperOptions(positivity_floor=floor))


def film_states(sol, b):
    """(h_inf, h_2, x_front): the film plateau behind the front, a second (higher) plateau in
    front of it if any (the undercompressive state of a double shock), and the front position."""
    x, h = sol.x, sol.h[-1]
    xf = leading_front(x, h, b)
    h_inf, xa, xe = plateau(x, h, 0.0, xf, flat_tol=0.004, h_min=1.15 * b)
    h2 = np.nan
    if np.isfinite(h_inf):
        h2, _, _ = plateau(x, h, xe, xf, flat_tol=0.004, h_min=h_inf + 0.04)
    return h_inf, h2, xf


def classify_meniscus_run(sol, b, D):
    """Observed structure of a meniscus run (a second, higher plateau ahead of h_inf = double
    shock) and the theory region (Fig. 4.4) of the measured left state."""
    h_inf, h2, xf = film_states(sol, b)
    try:
        h_uc, s_uc = undercompressive_state(b, D)
    except ValueError:
        h_uc, s_uc = None, np.nan
    region = classify_region(h_inf, b, D, h_uc)
    if np.isfinite(h2):
        observed = "compressive-undercompressive double shock"
    elif h_uc is not None and h_inf >= h_uc - 0.01:
        observed = "rarefaction-undercompressive"
    else:
        observed = "single front (%s by (4.13)/(4.14))" % classify_shock(h_inf, b).kind
    return dict(h_inf=h_inf, h2=h2, x_front=xf, h_uc=h_uc, s_uc=s_uc, region=region,
                region_name=REGIONS[region], observed=observed)


def _plot_profiles(ax, sol, title, xlim=None):
    for t, h in zip(sol.t, sol.h):
        ax.plot(sol.x, h, lw=1, label=f"t={t:g}")
    ax.set_xlabel("x")
    ax.set_ylabel("h")
    ax.set_title(title, fontsize=9)
    if xlim:
        ax.set_xlim(*xlim)


def _save(fig, outdir, name):
    Path(outdir).mkdir(parents=True, exist_ok=True)
    p = os.path.join(outdir, name)
    fig.tight_layout()
    fig.savefig(p, dpi=90)
    _plt().close(fig)
    return p


def fig_4_3(outdir, dx=0.05, progress=True, t_end=200.0):
    """Fig. 4.3: (D, b) = (0.353, 0.0317): meniscus selects h_inf = 0.43, compressive +
    undercompressive double shock; right: early meniscus evolution."""
    plt = _plt()
    D, b = 0.353, 0.0317
    sol = meniscus_run(D, b, t_end, dx=dx, progress=progress)
    early = meniscus_run(D, b, 2.0, dx=dx, L=30.0, n_save=10, progress=False)
    c = classify_meniscus_run(sol, b, D)
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    _plot_profiles(ax[0], sol, f"(4.7), D={D}, b={b}", xlim=(-10, 70))
    ax[0].set_ylim(0, 1.2)
    ax[0].axhline(c["h_inf"], ls=":", c="k")
    _plot_profiles(ax[1], early, "early times", xlim=(-5, 5))
    ax[1].set_ylim(0, 3)
    _save(fig, outdir, "fig4_3.png")
    return [_row("4.3", "h_inf (D=0.353,b=0.0317)", 0.43, c["h_inf"], f"dx={dx}, t={t_end:g}"),
            _row("4.3", "UC state h_uc (ODE) / PDE plateau", None, c["h_uc"],
                 "PDE plateau ahead %.4f" % c["h2"]),
            _row("4.3", "shock structure", "compressive-UC double", c["observed"],
                 "theory region: " + c["region_name"])]


def fig_4_5(outdir, dx=0.05, progress=True, t_end=200.0):
    """Fig. 4.5: experiments (BI) D=0.43, b=0.0353 (double shock) and (BII) D=0.966, b=0.0106
    (undercompressive front)."""
    plt = _plt()
    rows = []
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for k, (name, D, b, th) in enumerate((("BI", 0.43, 0.0353, "compressive-UC double"),
                                          ("BII", 0.966, 0.0106, "undercompressive"))):
        sol = meniscus_run(D, b, t_end, dx=dx, progress=progress)
        c = classify_meniscus_run(sol, b, D)
        _plot_profiles(ax[k], sol, f"({name}) D={D}, b={b}", xlim=(-10, 70))
        ax[k].set_ylim(0, 1.3)
        rows += [_row("4.5", f"({name}) h_inf", None, c["h_inf"], f"h_uc={c['h_uc']:.4f}"),
                 _row("4.5", f"({name}) shock structure", th, c["observed"],
                      "theory region: " + c["region_name"])]
    _save(fig, outdir, "fig4_5.png")
    return rows


def fig_4_6(outdir, dx=0.05, progress=True, t_end=200.0):
    """Fig. 4.6: D = 0.353 with b = 0.0353 (double shock) vs b = 0.1585 (compressive)."""
    plt = _plt()
    rows = []
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for k, (b, th) in enumerate(((0.0353, "compressive-UC double"), (0.1585, "compressive"))):
        sol = meniscus_run(0.353, b, t_end, dx=dx, progress=progress)
        c = classify_meniscus_run(sol, b, 0.353)
        _plot_profiles(ax[k], sol, f"D=0.353, b={b}", xlim=(-10, 70))
        ax[k].set_ylim(0, 1.2)
        rows += [_row("4.6", f"b={b} h_inf", None, c["h_inf"], f"h_uc={c['h_uc']:.4f}"),
                 _row("4.6", f"b={b} shock structure", th, c["observed"],
                      "theory region: " + c["region_name"])]
    _save(fig, outdir, "fig4_6.png")
    return rows


def state_behind_ridge(x, h, x_min=1.0):
    """Film height at the foot of the jump up to the capillary ridge of a front: left of the
    steepest point of the jump, the rightmost point whose slope is below twice the slope of the
    film behind it (a fan or flat film)."""
    m = x > x_min
    xs, hs = x[m], h[m]
    k = int(np.argmax(hs))
    g = np.gradient(hs, xs)
    j = int(np.argmax(g[:k])) if k > 0 else 0
    behind = (xs > xs[j] - 8.0) & (xs < xs[j] - 3.0)
    ramp = max(float(np.median(g[behind])), 5e-4) if behind.any() else 5e-4
    idx = np.nonzero(g[:j] < 2.0 * ramp)[0]
    return float(hs[idx[-1]]) if idx.size else float("nan")


def fig_4_7(outdir, dx=0.05, progress=True, t_end=200.0):
    """Fig. 4.7: [VS15] wine, D = 0.0338, b = 0.028: h_inf = 0.036, compressive front."""
    plt = _plt()
    D, b = 0.0338, 0.028
    sol = meniscus_run(D, b, t_end, dx=dx, x_left=5.0, L=45.0, progress=progress)
    c = classify_meniscus_run(sol, b, D)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _plot_profiles(ax, sol, f"D={D}, b={b}", xlim=(-5, 40))
    ax.set_ylim(0, 0.2)
    _save(fig, outdir, "fig4_7.png")
    hb = state_behind_ridge(sol.x, sol.h[-1])
    return [_row("4.7", "h behind front ridge (D=0.0338,b=0.028)", 0.036, hb,
                 f"dx={dx}, t={t_end:g}; no flat film: fan from the pinched meniscus"),
            _row("4.7", "front type", "compressive", c["observed"],
                 "theory region: " + c["region_name"])]


def fig_4_9(outdir, dx=0.05, progress=True, t_end=700.0):
    """Fig. 4.9: (4.22) with A = 2.83, x0 = 5 vs A = 0 at t = 700 (D = 0.353, b = 0.0317)."""
    plt = _plt()
    D, b = 0.353, 0.0317
    fig, ax = plt.subplots(figsize=(7, 3.6))
    vals = {}
    for A in (0.0, 2.83):
        sol = meniscus_run(D, b, t_end, dx=dx, x_left=4.5, L=4.5 + 200.0, A=A,
                           x0=5.0 if A else None, n_save=1, progress=progress)
        vals[A] = film_states(sol, b)
        ax.plot(sol.x, sol.h[-1], label=f"A={A}")
    ax.set_xlim(-4.5, 200)
    ax.set_ylim(0, 1.0)
    ax.legend()
    ax.set_title("t=700, D=0.353, b=0.0317", fontsize=9)
    _save(fig, outdir, "fig4_9.png")
    return [_row("4.9", "h_inf A=0", 0.43, vals[0.0][0], ""),
            _row("4.9", "h_inf A=2.83,x0=5 (lower)", "< h_inf(A=0)", vals[2.83][0],
                 "lower" if vals[2.83][0] < vals[0.0][0] else "NOT lower")]


def ruc_run(h_inf, t_end, dx=0.05, L=170.0, n_save=4, progress=True):
    ts = np.linspace(0.0, t_end, n_save + 1)[1:]
    return simulate("ruc", t_end=t_end, D=0.0146, h_inf=h_inf, h_eq=0.001, x_L=5.0, L=L,
                    N=int(round(L / dx)), save_times=ts, progress=progress)


def ruc_h_l(sol, h_inf, with_method=False):
    """The flat state h_l between the rarefaction fan and the RUC shock (section 4.6);
    with_method=True also returns "plateau" or "foot of jump (no separated plateau)"."""
    x, h = sol.x, sol.h[-1]
    # the fan H(x/t) has slope >= 1/(2t) ~ 1e-3 at t ~ 450-800: use a tighter flatness test;
    # if the flat state has not separated yet, take the film height at the foot of the RUC jump
    hl = plateau(x, h, 0.0, x[-1], flat_tol=2e-4, h_min=0.005, h_max=0.9 * h_inf)[0]
    how = "plateau"
    if not np.isfinite(hl):
        hl, how = state_behind_ridge(x, h), "foot of jump (no separated plateau)"
    return (hl, how) if with_method else hl


def fig_4_12(outdir, dx=0.05, progress=True, t_end=800.0):
    """Fig. 4.12: RUC formation, h_inf = 0.8, D = 0.0146, h_eq = 0.001, x_L = 5; close-up at
    t = 800 against the rarefaction H(x/t) (4.12)."""
    plt = _plt()
    sol = ruc_run(0.8, t_end, dx=dx, L=200.0, progress=progress)
    hl = ruc_h_l(sol, 0.8)
    x, h = sol.x, sol.h[-1]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    _plot_profiles(ax[0], sol, "RUC, h_inf=0.8, D=0.0146", xlim=(0, 200))
    ax[0].set_ylim(0, 1.0)
    ax[1].plot(x, h, label=f"t={sol.t[-1]:g}")
    H = rarefaction_profile(x / sol.t[-1])
    m = H < hl
    ax[1].plot(x[m], H[m], "-.", label="H(x/t) (4.12)")
    ax[1].axhline(hl, ls=":", c="k", label=f"h_l={hl:.3f}")
    ax[1].set_xlim(0, 160)
    ax[1].set_ylim(0, 0.2)
    ax[1].legend(fontsize=8)
    _save(fig, outdir, "fig4_12.png")
    # rarefaction agreement: max |h - H(x/t)| inside the fan (away from its ends)
    fan = (x > 10) & (H < 0.9 * hl)
    err = float(np.max(np.abs(h[fan] - H[fan])))
    return [_row("4.12", "h_l (h_inf=0.8)", 0.076, hl, f"dx={dx}, t={t_end:g}"),
            _row("4.12", "max|h-H(x/t)| in fan", "good agreement", err, ""),
            _row("4.12", "shock h_l->0.8", "reverse-undercompressive",
                 classify_shock(hl, 0.8).kind, "")]


def fig_4_13(outdir, dx=0.05, progress=True, t_end=450.0):
    """Fig. 4.13: h_inf in {0.4, 0.6, 0.8} at t = 450 and the flux-function chords."""
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    rows = []
    thesis = {0.4: None, 0.6: 0.17, 0.8: 0.076}
    hh = np.linspace(0, 1, 200)
    ax[1].plot(hh, f(hh), "k")
    for hinf in (0.4, 0.6, 0.8):
        sol = ruc_run(hinf, t_end, dx=dx, L=170.0, n_save=1, progress=progress)
        hl, how = ruc_h_l(sol, hinf, with_method=True)
        ax[0].plot(sol.x, sol.h[-1], label=f"h_inf={hinf}")
        if hinf == 0.4:
            # dominated by the rarefaction: the fan ends abruptly in the flat film h_inf, no ridge
            ridge = float(np.max(sol.h[-1]) - hinf)
            rows.append(_row("4.13", "h_inf=0.4: ridge height above h_inf", "none (RW only)",
                             ridge, "rarefaction only" if ridge < 0.02 else "ridge present"))
            continue
        kind = classify_shock(hl, hinf).kind
        ax[1].plot([hl, hinf], [f(hl), f(hinf)], "o--", label=f"{hl:.3f}->{hinf}")
        rows += [_row("4.13", f"h_l (h_inf={hinf})", thesis[hinf], hl, f"t={t_end:g}, {how}"),
                 _row("4.13", f"shock h_l->{hinf}", "reverse-undercompressive", kind, "")]
    ax[0].legend(fontsize=8)
    ax[0].set_xlim(0, 170)
    ax[1].legend(fontsize=8)
    ax[1].set_xlabel("h")
    ax[1].set_ylabel("f(h)")
    _save(fig, outdir, "fig4_13.png")
    return rows


def fig_4_14(outdir, dx=0.05, progress=True, t_end=300.0):
    """Fig. 4.14: meniscus BC (4.16) with right state 0.8, D = 0.0146, A = 68.9, x0 = 25 vs A = 0;
    the A = 68.9 front shifted by dx_shift to align at t = 300 (thesis: 5.3)."""
    plt = _plt()
    dx = min(dx, 0.05)     # coarser grids put the pinch far below zero (floor mass grows ~100x)
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    sols = {}
    for A in (0.0, 68.9):
        # the film pinches towards h = 0 next to the meniscus (the near-rupture h_eq of section
        # 4.6): lift h to 1e-4 there (mass added is reported)
        sols[A] = meniscus_run(0.0146, 0.8, t_end, dx=dx, x_left=5.0, L=85.0, A=A,
                               x0=25.0 if A else None, n_save=3, progress=progress, floor=1e-4)
        for t, h in zip(sols[A].t, sols[A].h):
            ax[0].plot(sols[A].x, h, "-" if A == 0 else "--", lw=1)
    # front: rightmost crossing of the level midway between h_l-ish and 0.8 (the RUC jump)
    pos = {A: float(find_fronts(s.x, s.h[-1], 0.4)[-1]) for A, s in sols.items()}
    shift = pos[0.0] - pos[68.9]
    for A, s in sols.items():
        ax[1].plot(s.x + (shift if A else 0.0), s.h[-1], label=f"A={A}")
    ax[0].set_xlim(-5, 80)
    ax[0].set_ylim(0, 1.5)
    ax[1].set_xlim(20, 80)
    ax[1].set_ylim(0, 1.2)
    ax[1].legend(fontsize=8)
    _save(fig, outdir, "fig4_14.png")
    added = {A: s.stats.floor_mass * s.params["dx"] for A, s in sols.items()}
    return [_row("4.14", "front shift A=68.9 vs A=0 (t=300)", 5.3, shift,
                 "mass added by floor 1e-4: " + ", ".join(f"A={A}: {m:.2g}" for A, m in added.items()))]


def fig_4_4(outdir, progress=True, n_D=11, D_max=2.0):
    """Fig. 4.4 (right): regions in (D, h_inf) at b = 0.0353 from the travelling-wave ODE."""
    plt = _plt()
    b = 0.0353
    Ds = np.linspace(0.0, D_max, n_D)
    hs = np.linspace(0.05, 1.0, 96)
    reg, huc, h1, hc = bifurcation_diagram(b, Ds, hs)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.contourf(Ds, hs, reg, levels=[0.5, 1.5, 2.5, 3.5, 4.5], cmap="Pastel1")
    ax.plot(Ds, huc, "k-", label="h_uc(D)")
    ax.plot(Ds, h1, "k--", label="h_1 = 1 - b - h_uc")
    ax.plot(Ds, hc, "k:", label="h_c (direct wave limit)")
    for k, name in REGIONS.items():
        ii = np.argwhere(reg == k)
        if ii.size:
            i, j = ii[len(ii) // 2]
            ax.text(Ds[j], hs[i], f"({k})", fontsize=8)
    ax.set_xlabel("D")
    ax.set_ylabel("h_inf")
    ax.legend(fontsize=8)
    ax.set_title("b = 0.0353", fontsize=9)
    _save(fig, outdir, "fig4_4.png")
    j = int(np.argmin(np.abs(Ds - 0.43)))
    return [_row("4.4", f"regions present (D<={D_max:g})", "1,2,3,4",
                 ",".join(str(k) for k in sorted(set(reg.ravel().tolist()))),
                 "4 = direct wave for h_1<h<h_c (see waves.classify_region)"),
            _row("4.4", f"h_uc, h_1, h_c at D={Ds[j]:.2f}", None, float(huc[j]),
                 f"h_1={h1[j]:.4f}, h_c={hc[j]:.4f}")]


FIGURES = {"4.3": fig_4_3, "4.4": fig_4_4, "4.5": fig_4_5, "4.6": fig_4_6, "4.7": fig_4_7,
           "4.9": fig_4_9, "4.12": fig_4_12, "4.13": fig_4_13, "4.14": fig_4_14}
