"""Figures 4.3-4.7, 4.9, 4.12-4.14 and 4.4 of Chapter 4, and the measured-vs-thesis values they
yield.  Each `fig_*` runs the solver, writes a PNG into `outdir` and returns a list of table rows
(dict(figure, quantity, thesis, measured, note))."""
from __future__ import annotations


import numpy as np

from ..plotting import save_figure
from .analysis import find_fronts, leading_front, plateau
from .grid import f, fprime
from .shocks import classify_shock, rarefaction_profile
from .simulate import simulate
from .stepper import StepperOptions
from .waves import (REGIONS, bifurcation_diagram, classify_region, reverse_undercompressive_state,
                    tangent_state, uc_branch_end, undercompressive_state)


def _plt():
    from ..plotting import plt   # lazily: the solver itself does not need matplotlib
    return plt


def _row(fig, quantity, thesis, measured, note="", status=""):
    """One line of the measured-vs-thesis table; status: reproduced / NOT reproduced (+ why)."""
    return dict(figure=fig, quantity=quantity, thesis=thesis, measured=measured, note=note,
                status=status)


def _close(measured, thesis, rel):
    return bool(np.isfinite(measured) and abs(measured - thesis) <= rel * abs(thesis))


def _same_structure(thesis: str, observed: str) -> bool:
    """Thesis wording (compressive-UC double / undercompressive / compressive) vs observed."""
    if thesis.startswith("compressive-UC double"):
        return observed.startswith("compressive-undercompressive double")
    if thesis == "undercompressive":
        return "undercompressive" in observed and not observed.startswith("compressive-")
    if thesis == "compressive":
        return "compressive" in observed and "undercompressive" not in observed
    return thesis == observed


def meniscus_run(D, b, t_end, dx=0.05, x_left=10.0, L=80.0, A=0.0, x0=None, n_save=8,
                 progress=True, right_state=None, floor=0.0, order=2):
    """Meniscus run (4.16)-(4.17) on [-x_left, L - x_left] saved at n_save equally spaced times
    (floor: see StepperOptions.positivity_floor; order 1 = first-order upwind flux).

    x_left must be several meniscus lengths D^{-1/2} of (4.17): the boundary cell is held at
    h_0(-x_left), and for x_left <~ 2 D^{-1/2} the initial meniscus relaxes by draining (D =
    0.0338, x_left = 5 < D^{-1/2} = 5.4 pinches the film to h ~ 0.005)."""
    N = int(round(L / dx))
    ts = np.linspace(0.0, t_end, n_save + 1)[1:]
    return simulate("meniscus", t_end=t_end, D=D, b=b if right_state is None else right_state,
                    L=L, N=N, x_left=x_left, A=A, x0=x0, save_times=ts, progress=progress,
                    order=order, options=StepperOptions(positivity_floor=floor))


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


def _save(fig, outdir, name) -> str:
    return str(save_figure(fig, outdir, name, dpi=90))


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
    ok = _same_structure("compressive-UC double", c["observed"])
    return [_row("4.3", "h_inf (D=0.353,b=0.0317)", 0.43, c["h_inf"], f"dx={dx}, t={t_end:g}",
                 "reproduced" if _close(c["h_inf"], 0.43, 0.02) else "NOT reproduced"),
            _row("4.3", "UC state h_uc (ODE) / PDE plateau", None, c["h_uc"],
                 "PDE plateau ahead %.4f" % c["h2"],
                 "consistent" if _close(c["h2"], c["h_uc"] or np.nan, 0.02) else "differs"),
            _row("4.3", "shock structure", "compressive-UC double", c["observed"],
                 "theory region: " + c["region_name"], "reproduced" if ok else "NOT reproduced")]


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
                      "theory region: " + c["region_name"],
                      "reproduced" if _same_structure(th, c["observed"]) else "NOT reproduced")]
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
        status = "reproduced" if _same_structure(th, c["observed"]) else "NOT reproduced"
        note = "theory region: " + c["region_name"]
        if th == "compressive" and c["observed"].startswith("single front") and c["region"] == 2:
            # b = 0.1585: h_uc - h_inf = 0.03 and the two waves separate at only
            # s(h_uc, b) - s(h_inf, h_uc) = 0.012: one front at t = 200; the h_uc plateau shows
            # by t ~ 600 (0.450 at t = 600, dx = 0.1)
            status = "single front at t=200, as thesis"
            note += (f" with h_uc - h_inf = {c['h_uc'] - c['h_inf']:.3f}: the waves separate "
                     "too slowly to show by t=200 (thesis: 'compressive')")
        rows += [_row("4.6", f"b={b} h_inf", None, c["h_inf"], f"h_uc={c['h_uc']:.4f}"),
                 _row("4.6", f"b={b} shock structure", th, c["observed"], note, status)]
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


def meniscus_film(sol, b, factor=1.02):
    """Flat film drawn out of the meniscus: (height, x_start, x_end) of the flat part of the last
    snapshot between x = 1 and the front (rightmost crossing of factor * b, minus 1)."""
    x, h = sol.x, sol.h[-1]
    xf = leading_front(x, h, b, factor=factor)
    return plateau(x, h, 1.0, xf - 1.0, flat_tol=1e-3, h_min=1.01 * b)


def fig_4_7(outdir, dx=0.05, progress=True, t_end=200.0, x_left=30.0):
    """Fig. 4.7: [VS15] wine, D = 0.0338, b = 0.028: the meniscus yields h_inf = 0.036 and a
    compressive front.

    The meniscus length of (4.17) is D^{-1/2} = 5.4: the domain must reach x_left >~ 20 for a
    domain-independent meniscus (x_left = 5, used before, drained the contact region: pinch to
    h ~ 0.005 and a rarefaction fan instead of a flat film).  The foot of the meniscus (film
    ~0.03 thick) needs dx <~ 0.0125 (dx = 0.1/0.05/0.025/0.0125/0.00625 at x_left = 30 give
    0.0294/0.0320/0.0331/0.03338/0.03347).  The thesis's first-order upwind flux (section 4.3)
    over-estimates h_inf by O(dx) (0.061/0.048/0.0373 at dx = 0.1/0.05/0.0125)."""
    plt = _plt()
    D, b = 0.0338, 0.028
    dxm = min(dx, 0.0125)
    L = x_left + 45.0
    sol = meniscus_run(D, b, t_end, dx=dxm, x_left=x_left, L=L, progress=progress)
    up1 = meniscus_run(D, b, t_end, dx=dxm, x_left=x_left, L=L, n_save=1, progress=progress,
                       order=1)
    h_inf = meniscus_film(sol, b)[0]
    h_up1 = meniscus_film(up1, b)[0]
    kind = classify_shock(h_inf, b).kind if np.isfinite(h_inf) else "no film"
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _plot_profiles(ax, sol, f"D={D}, b={b}, x_left={x_left:g}, dx={dxm:g}", xlim=(-3, 40))
    ax.plot(up1.x, up1.h[-1], "k:", lw=1, label="1st-order upwind")
    ax.axhline(0.036, ls="--", c="gray", lw=0.8)
    ax.set_ylim(0, 0.06)
    _save(fig, outdir, "fig4_7.png")
    return [_row("4.7", "h_inf from meniscus (D=0.0338,b=0.028)", 0.036, h_inf,
                 f"dx={dxm:g}, x_left={x_left:g}, t={t_end:g}; converged 0.0335 "
                 "(dx->0, x_left>=20); "
                 "before: x_left=5 < D^-1/2 drained the meniscus (pinch+fan, no film)",
                 f"reproduced ({100 * (h_inf / 0.036 - 1):+.0f}%)" if _close(h_inf, 0.036, 0.1)
                 else "NOT reproduced"),
            _row("4.7", "h_inf, 1st-order upwind (thesis scheme)", 0.036, h_up1,
                 f"dx={dxm:g}: first-order upwind errs O(dx) upwards, the size of the thesis's +7%",
                 "consistent" if _close(h_up1, 0.036, 0.06) else "differs"),
            _row("4.7", "front type", "compressive", kind, "h_inf -> b, (4.13)",
                 "reproduced" if kind == "compressive" else "NOT reproduced")]


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
    lower = vals[2.83][0] < vals[0.0][0]
    return [_row("4.9", "h_inf A=0", 0.43, vals[0.0][0], "",
                 "reproduced" if _close(vals[0.0][0], 0.43, 0.02) else "NOT reproduced"),
            _row("4.9", "h_inf A=2.83,x0=5 (lower)", "< h_inf(A=0)", vals[2.83][0],
                 "lower" if lower else "NOT lower", "reproduced" if lower else "NOT reproduced")]


def ruc_run(h_inf, t_end, dx=0.05, L=170.0, n_save=4, progress=True, options=None):
    """RUC run (4.23)-(4.24), D = 0.0146, h_eq = 0.001, x_L = 5 (options: StepperOptions)."""
    ts = np.linspace(0.0, t_end, n_save + 1)[1:]
    return simulate("ruc", t_end=t_end, D=0.0146, h_inf=h_inf, h_eq=0.001, x_L=5.0, L=L,
                    N=int(round(L / dx)), save_times=ts, progress=progress, options=options)


def h_l_status(hl, thesis, h_ode=None):
    """Status of a measured h_l against the thesis (3%): below it is the thesis's time error."""
    if _close(hl, thesis, 0.03):
        return "reproduced"
    extra = f", ODE {h_ode:.3g}" if h_ode is not None else ""
    return f"NOT reproduced ({100 * (hl / thesis - 1):+.0f}%{extra}): thesis under-resolved"


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


# why h_l = 0.076 (h_inf = 0.8) is not reproduced: the time-step-free travelling-wave value
# (reverse_undercompressive_state) is 0.06916; the PDE converges to it (BDF2, rtol 1e-5, t = 450:
# dx = 0.1/0.05/0.025 -> 0.0705/0.0693/0.0691); backward Euler at loose tolerance gives the
# thesis's number (dx = 0.1: rtol 1e-2/1e-3/1e-4/1e-5 -> 0.093/0.077/0.0726/0.0713)
H_L_NOTE = "ODE RUC state 0.0692; BE at rtol 1e-3 gives 0.077"


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
    kind = classify_shock(hl, 0.8).kind
    return [_row("4.12", "h_l (h_inf=0.8)", 0.076, hl, f"dx={dx}, t={t_end:g}; " + H_L_NOTE,
                 h_l_status(hl, 0.076)),
            _row("4.12", "max|h-H(x/t)| in fan", "good agreement", err, "",
                 "reproduced" if err < 0.01 else "NOT reproduced"),
            _row("4.12", "shock h_l->0.8", "reverse-undercompressive", kind, "",
                 "reproduced" if kind == "reverse-undercompressive" else "NOT reproduced")]


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
                             ridge, "rarefaction only" if ridge < 0.02 else "ridge present",
                             "reproduced" if ridge < 0.02 else "NOT reproduced"))
            continue
        kind = classify_shock(hl, hinf).kind
        ax[1].plot([hl, hinf], [f(hl), f(hinf)], "o--", label=f"{hl:.3f}->{hinf}")
        h_ode = reverse_undercompressive_state(hinf, 0.0146)[0]
        rows += [_row("4.13", f"h_l (h_inf={hinf})", thesis[hinf], hl, f"t={t_end:g}, {how}",
                      h_l_status(hl, thesis[hinf], h_ode)),
                 _row("4.13", f"h_l (h_inf={hinf}) travelling-wave ODE", thesis[hinf], h_ode,
                      "reverse_undercompressive_state, no time stepping",
                      ("agrees with PDE" if _close(hl, h_ode, 0.03) else "differs from PDE")
                      + ("" if _close(h_ode, thesis[hinf], 0.03) else "; thesis off")),
                 _row("4.13", f"shock h_l->{hinf}", "reverse-undercompressive", kind, "",
                      "reproduced" if kind == "reverse-undercompressive" else "NOT reproduced")]
    ax[0].legend(fontsize=8)
    ax[0].set_xlim(0, 170)
    ax[0].set_xlabel("x")
    ax[0].set_ylabel(f"h(x, t={t_end:g})")
    ax[1].legend(fontsize=8)
    ax[1].set_xlabel("h")
    ax[1].set_ylabel("f(h)")
    _save(fig, outdir, "fig4_13.png")
    return rows


def fig_4_14(outdir, dx=0.05, progress=True, t_end=300.0, x_left=20.0):
    """Fig. 4.14: meniscus BC (4.16) with right state 0.8, D = 0.0146, A = 68.9, x0 = 25 vs A = 0;
    the A = 68.9 front shifted by dx_shift to align at t = 300 (thesis: 5.3).

    The shift is set near the meniscus, where A / (x + x0)^2 is largest, so it depends on where
    the meniscus domain is cut: x >= -x_left with x_left < x0 = 25 (the term is singular at the
    vertex x = -x0).  x_left = 5/10/15/20/22 give 0.82/1.64/2.94/5.35/7.05 (dx = 0.05; 5.34-5.35
    for dx = 0.1-0.025 at x_left = 20): the thesis's 5.3 matches a domain starting at x = -20,
    i.e. 5 units above the vertex.  With x_left = 20 the film no longer pinches to zero (min h
    ~ 4e-3), so the positivity floor (kept as a guard) adds no mass."""
    plt = _plt()
    dx = min(dx, 0.05)
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    sols = {}
    for A in (0.0, 68.9):
        sols[A] = meniscus_run(0.0146, 0.8, t_end, dx=dx, x_left=x_left, L=x_left + 80.0, A=A,
                               x0=25.0 if A else None, n_save=3, progress=progress, floor=1e-4)
        for t, h in zip(sols[A].t, sols[A].h):
            ax[0].plot(sols[A].x, h, "-" if A == 0 else "--", lw=1)
    # front: rightmost crossing of the level midway between h_l-ish and 0.8 (the RUC jump)
    pos = {A: float(find_fronts(s.x, s.h[-1], 0.4)[-1]) for A, s in sols.items()}
    shift = pos[0.0] - pos[68.9]
    for A, s in sols.items():
        ax[1].plot(s.x + (shift if A else 0.0), s.h[-1], label=f"A={A}")
    ax[0].set_xlim(-x_left, 80)
    ax[0].set_ylim(0, 1.5)
    ax[1].set_xlim(20, 80)
    ax[1].set_ylim(0, 1.2)
    ax[1].legend(fontsize=8)
    _save(fig, outdir, "fig4_14.png")
    added = {A: s.stats.floor_mass * s.params["dx"] for A, s in sols.items()}
    return [_row("4.14", "front shift A=68.9 vs A=0 (t=300)", 5.3, shift,
                 f"x_left={x_left:g} (x=-x_left is {25 - x_left:g} above the vertex); depends on "
                 "x_left: 5/15/22 -> 0.82/2.94/7.05; floor mass "
                 + ", ".join(f"A={A}: {m:.2g}" for A, m in added.items()),
                 "reproduced (domain x>=-20)" if _close(shift, 5.3, 0.05) else "NOT reproduced")]


def generalized_lax_check(D=3.0, b=0.0353, h_inf=0.7, t_end=300.0, progress=False):
    """PDE Riemann run beyond the end of the UC branch (region (4)): the front speed between
    t_end/2 and t_end and the film height 2 units behind the front.  A fan h_inf -> h_T attached
    to a characteristic Lax shock h_T -> b moves at s(h_T, b) = f'(h_T), the largest speed of
    any jump into b (ds(h, b)/dh = 1 - 2h - b = 0 at h_T)."""
    L, N = 140.0, 1400
    x = -20.0 + (np.arange(N) + 0.5) * L / N
    h0 = b + (h_inf - b) * 0.5 * (1.0 - np.tanh(x))
    sol = simulate("front", t_end=t_end, D=D, b=b, h_inf=h_inf, x_left=20.0, L=L, N=N,
                   h_init=h0, save_times=[0.5 * t_end, t_end], progress=progress)
    xf = [leading_front(sol.x, h, b, factor=2.0) for h in sol.h[1:]]
    speed = (xf[1] - xf[0]) / (sol.t[2] - sol.t[1])
    return float(speed), float(np.interp(xf[1] - 2.0, sol.x, sol.h[-1])), sol


def fig_4_4(outdir, progress=True, n_D=15, D_max=3.5):
    """Fig. 4.4 (right): regions in (D, h_inf) at b = 0.0353 from the travelling-wave ODE.

    Regions (1)-(3) fill D < D* = 2.57, where the UC branch h_uc(D) meets h_1(D) at the tangent
    state h_T = (1 - b)/2; direct Lax waves end exactly at h_1 there (h_c = h_1), so no
    'generalized Lax' band between h_1 and h_c.  Region (4) is D > D*, h_inf > h_T: no UC wave,
    a fan h_inf -> h_T attached to a characteristic Lax shock (the diagram used to stop at
    D = 2, below D*, hence no region (4))."""
    plt = _plt()
    b = 0.0353
    Ds = np.linspace(0.0, D_max, n_D)
    hs = np.linspace(0.05, 1.0, 96)
    reg, huc, h1, hc = bifurcation_diagram(b, Ds, hs)
    d_star = uc_branch_end(b, 2.0, 3.0) if D_max > 3.0 else float("nan")
    speed, foot, _ = generalized_lax_check(D=3.0, b=b, h_inf=0.7)
    s_sonic = float(fprime(tangent_state(b)))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.contourf(Ds, hs, reg, levels=[0.5, 1.5, 2.5, 3.5, 4.5], cmap="Pastel1")
    ax.plot(Ds, huc, "k-", label="h_uc(D)")
    ax.plot(Ds, h1, "k--", label="h_1 = 1 - b - h_uc")
    ax.plot(Ds, hc, "k:", label="h_c (direct wave limit)")
    ax.axhline(tangent_state(b), c="gray", lw=0.8, label="h_T = (1 - b)/2")
    for k, name in REGIONS.items():
        ii = np.argwhere(reg == k)
        if ii.size:   # label at the region's centroid
            ax.text(Ds[ii[:, 1]].mean(), hs[ii[:, 0]].mean(), f"({k})", fontsize=9, ha="center")
    ax.set_xlabel("D")
    ax.set_ylabel("h_inf")
    ax.legend(fontsize=8)
    ax.set_title("b = 0.0353", fontsize=9)
    _save(fig, outdir, "fig4_4.png")
    j = int(np.argmin(np.abs(Ds - 0.5)))
    present = sorted(set(reg.ravel().tolist()))
    return [_row("4.4", f"regions present (D<={D_max:g})", "1,2,3,4",
                 ",".join(str(k) for k in present),
                 "(4) = D > D*, h_inf > h_T: fan + characteristic Lax shock "
                 "(waves.classify_region)",
                 "reproduced" if present == [1, 2, 3, 4] else "NOT reproduced"),
            _row("4.4", "D* (end of UC branch, b=0.0353)", "(4) only at large D", d_star,
                 f"h_uc(D*) = h_1(D*) = h_T = {tangent_state(b):.4f}", "consistent"),
            _row("4.4", "PDE D=3, h_inf=0.7: front speed (t=150-300)", "generalized Lax", speed,
                 f"sonic speed s(h_T,b) = f'(h_T) = {s_sonic:.4f}; h 2 behind front {foot:.3f}, "
                 f"fan h_inf -> h_T = {tangent_state(b):.4f}",
                 (f"consistent ({100 * (speed / s_sonic - 1):+.1f}%)"
                  if abs(speed - s_sonic) < 0.03 * s_sonic else "differs")),
            _row("4.4", f"h_uc, h_1, h_c at D={Ds[j]:.2f}", None, float(huc[j]),
                 f"h_1={h1[j]:.4f}, h_c={hc[j]:.4f} (h_c = h_1: no direct waves above h_1)")]


FIGURES = {"4.3": fig_4_3, "4.4": fig_4_4, "4.5": fig_4_5, "4.6": fig_4_6, "4.7": fig_4_7,
           "4.9": fig_4_9, "4.12": fig_4_12, "4.13": fig_4_13, "4.14": fig_4_14}
