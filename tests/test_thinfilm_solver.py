import numpy as np
import pytest

from thesis.thinfilm import StepFailure, StepperOptions, simulate
from thesis.thinfilm.grid import (Grid, Physics, side_dirichlet, side_meniscus, side_pinned,
                                  side_wall)
from thesis.thinfilm.jacobian import banded_to_dense, residual, residual_and_jacobian

SIDES = {
    "meniscus/precursor": (side_meniscus(0.3, 0.1, 0.05), side_dirichlet(0.03)),
    "meniscus-flux/precursor": (side_meniscus(0.3, 0.1, 0.05, reservoir=False), side_dirichlet(0.03)),
    "ruc": (side_pinned(0.001), side_dirichlet(0.8)),
    "walls": (side_wall(), side_wall()),
}


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("sides", list(SIDES))
def test_jacobian_matches_finite_differences(order, sides):
    rng = np.random.default_rng(1)
    left, right = SIDES[sides]
    g = Grid(-1.0, 3.0, 30)
    ph = Physics(D=0.3, A=1.0, x0=5.0, order=order)
    h = 0.2 + rng.random(30)
    h[:3] += 20.0                       # meniscus-like large heights on the left
    r = -(h + 0.01 * rng.random(30))
    _, ab = residual_and_jacobian(h, g, ph, left, right, 1.0, r, 0.1)
    J = banded_to_dense(ab)
    Jfd = np.empty_like(J)
    e = 1e-6
    for j in range(30):
        hp, hm = h.copy(), h.copy()
        hp[j] += e
        hm[j] -= e
        Jfd[:, j] = (residual(hp, g, ph, left, right, 1.0, r, 0.1)
                     - residual(hm, g, ph, left, right, 1.0, r, 0.1)) / (2 * e)
    assert np.max(np.abs(J - Jfd)) / np.max(np.abs(J)) < 1e-7


def _wall_run(N, order, t_end=0.4, L=10.0):
    x = (np.arange(N) + 0.5) * L / N
    h0 = 0.5 + 0.3 * np.cos(np.pi * x / L)
    o = StepperOptions(dt0=2e-3, dt_max=2e-3, time_rtol=1e3, time_atol=1e3)
    return simulate("wall", t_end=t_end, D=0.3, L=L, N=N, h_init=h0, order=order,
                    progress=False, options=o)


def test_mass_conservation_no_flux():
    s = _wall_run(80, 2)
    dx = 10.0 / 80
    m = s.h.sum(axis=1) * dx
    assert abs(m[-1] - m[0]) < 1e-12 * m[0]
    assert not np.allclose(s.h[-1], s.h[0], atol=1e-3)   # it did evolve


@pytest.mark.parametrize("order,expected", [(1, 1.0), (2, 2.0)])
def test_observed_order_of_convergence(order, expected):
    hs = [_wall_run(N, order).h[-1] for N in (40, 80, 160, 320)]
    e = [np.max(np.abs(hs[i] - hs[i + 1].reshape(-1, 2).mean(1))) for i in range(3)]
    p = np.log2(e[-2] / e[-1])
    assert abs(p - expected) < 0.15


def test_positivity_and_adaptivity_ruc():
    s = simulate("ruc", t_end=20.0, D=0.0146, h_inf=0.8, h_eq=0.001, x_L=5.0, L=40.0, N=800,
                 progress=False)
    assert np.all(s.h > 0)
    assert s.h[-1].min() < 0.01            # the film thins towards h_eq near the meniscus
    assert s.stats.steps > 10 and s.stats.newton_iterations >= s.stats.steps
    assert s.h[-1][0] == pytest.approx(0.001, rel=0.5)


def test_meniscus_selects_film_height_fig43_short():
    s = simulate("meniscus", t_end=40.0, D=0.353, b=0.0317, L=50.0, N=1000, progress=False)
    x, h = s.x, s.h[-1]
    assert np.interp(3.0, x, h) == pytest.approx(0.43, abs=0.01)   # thesis: h_inf = 0.43
    assert np.all(h > 0)


def test_step_failure_reports_state():
    o = StepperOptions(newton_maxit=1, max_failures=3, dt0=1.0, time_rtol=1e3)
    with pytest.raises(StepFailure, match=r"t=.*dt=.*Newton update"):
        simulate("ruc", t_end=5.0, D=0.0146, h_inf=0.8, h_eq=0.001, x_L=5.0, L=20.0, N=200,
                 progress=False, options=o)


@pytest.mark.parametrize("kw,name", [
    (dict(scenario="meniscus", t_end=1.0, D=-0.1, b=0.03), "D"),
    (dict(scenario="meniscus", t_end=1.0, D=0.3, b=0.0), "b"),
    (dict(scenario="meniscus", t_end=1.0, D=0.3, b=-0.1), "b"),
    (dict(scenario="ruc", t_end=1.0, D=0.01, h_inf=0.8, h_eq=0.0, x_L=5.0), "h_eq"),
    (dict(scenario="ruc", t_end=1.0, D=0.01, h_inf=0.8, h_eq=1e-3, x_L=5.0, N=5), "N"),
    (dict(scenario="meniscus", t_end=0.0, D=0.3, b=0.03), "t_end"),
    (dict(scenario="meniscus", t_end=-1.0, D=0.3, b=0.03), "t_end"),
    (dict(scenario="tears", t_end=1.0, D=0.3, b=0.03), "scenario"),
    (dict(scenario="meniscus", t_end=1.0, D=0.3, b=0.03, A=2.0, x0=5.0), "x0"),
])
def test_bad_input(kw, name):
    sc = kw.pop("scenario")
    with pytest.raises(ValueError, match=name):
        simulate(sc, progress=False, **kw)


def test_bdf2_is_second_order_in_time_and_beats_backward_euler():
    L, N = 10.0, 80
    x = (np.arange(N) + 0.5) * L / N
    h0 = 0.5 + 0.3 * np.cos(np.pi * x / L)

    def run(dt, m):
        o = StepperOptions(method=m, dt0=dt, dt_max=dt, time_rtol=1e9, time_atol=1e9,
                           grow_max=1.0)
        return simulate("wall", t_end=0.4, D=0.3, L=L, N=N, h_init=h0, progress=False,
                        options=o).h[-1]

    ref = run(2.5e-4, "bdf2")
    err = {m: [np.max(np.abs(run(dt, m) - ref)) for dt in (0.02, 0.01)] for m in ("be", "bdf2")}
    assert np.log2(err["be"][0] / err["be"][1]) == pytest.approx(1.0, abs=0.15)
    assert np.log2(err["bdf2"][0] / err["bdf2"][1]) == pytest.approx(2.0, abs=0.2)
    assert err["bdf2"][1] < err["be"][1] / 20
