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


# --- the fused, allocation-free assembly (grid.flux_kernel / jacobian.assemble / the Newton loop)

def _reference_face_flux(hp, grid, phys, left, right):
    """Straightforward evaluation of the face fluxes and their partials from the textbook
    formulas (grid.eo_flux, grid.van_albada): the oracle for the fused kernel."""
    from thesis.thinfilm.grid import eo_flux, van_albada
    N, dx = grid.N, grid.dx
    u0, u1, u2, u3 = hp[0:N + 1], hp[1:N + 2], hp[2:N + 3], hp[3:N + 4]
    G = np.zeros((4, N + 1))
    if phys.order == 2:
        d = hp[1:] - hp[:-1]
        phi, phi_a, phi_b = van_albada(d[:-1], d[1:], phys.limiter_eps)
        for v in (phi, phi_a, phi_b):
            v[0] = v[-1] = 0.0
        pl, pl_a, pl_b = phi[:-1], phi_a[:-1], phi_b[:-1]
        pr, pr_a, pr_b = phi[1:], phi_a[1:], phi_b[1:]
        Fa, dFu, dFv = eo_flux(u1 + 0.5 * pl, u2 - 0.5 * pr)
        G[0] = dFu * (-0.5 * pl_a)
        G[1] = dFu * (1.0 + 0.5 * (pl_a - pl_b)) + dFv * (0.5 * pr_a)
        G[2] = dFu * (0.5 * pl_b) + dFv * (1.0 - 0.5 * (pr_a - pr_b))
        G[3] = dFv * (-0.5 * pr_b)
    else:
        Fa, G[1], G[2] = eo_flux(u1, u2)
    hm = 0.5 * (u1 + u2)
    m = hm ** 3
    bracket = (u3 - u0 + 3.0 * (u1 - u2)) / dx ** 3 - phys.D * (u2 - u1) / dx
    bracket = bracket - phys.A / (grid.x_faces + phys.x0) ** 2
    F = Fa + m * bracket
    dm = 1.5 * hm * hm * bracket
    c1 = m * (3.0 / dx ** 3 + phys.D / dx)
    G += np.array([-m / dx ** 3, dm + c1, dm - c1, m / dx ** 3])
    for k, side in ((0, left), (-1, right)):
        if side.face_flux_value is not None:
            F[k] = side.face_flux_value
            G[:, k] = 0.0
    return F, G


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("A", [0.0, 1.0])
@pytest.mark.parametrize("sides", list(SIDES))
def test_fused_face_flux_matches_reference_formulas(order, A, sides):
    from thesis.thinfilm.grid import face_flux, pad
    rng = np.random.default_rng(7)
    left, right = SIDES[sides]
    g = Grid(-1.0, 3.0, 40)
    ph = Physics(D=0.3, A=A, x0=5.0, order=order)
    h = 0.05 + rng.random(40)
    h[:3] += 20.0
    h[10:14] = [0.7, 0.66, 0.9, -0.01]     # both clipping branches of the EO flux, h < 0
    hp = pad(h, left, right)
    F, G = face_flux(hp, g, ph, left, right)
    Fr, Gr = _reference_face_flux(hp, g, ph, left, right)
    np.testing.assert_allclose(F, Fr, rtol=0, atol=1e-13 * np.max(np.abs(Fr)))
    np.testing.assert_allclose(G, Gr, rtol=0, atol=1e-13 * np.max(np.abs(Gr)))
    F2, G2 = face_flux(hp, g, ph, left, right, want_jac=False)
    assert G2 is None and np.array_equal(F2, F)


@pytest.mark.parametrize("sides", list(SIDES))
def test_inplace_assembly_matches_residual_and_jacobian(sides):
    """assemble() into the reused Newton buffers == the fresh-array API, for both layouts, and
    no state leaks between calls that share the workspace."""
    from thesis.thinfilm.jacobian import assemble
    from thesis.thinfilm.stepper import newton_workspace
    rng = np.random.default_rng(3)
    left, right = SIDES[sides]
    g = Grid(-1.0, 3.0, 30)
    ph = Physics(D=0.3, A=1.0, x0=5.0, order=2)
    ws = newton_workspace(30)
    for a0 in (1.0, 1.4):
        h = 0.2 + rng.random(30)
        r = -(h + 0.01 * rng.random(30))
        R, ab = residual_and_jacobian(h, g, ph, left, right, a0, r, 0.1)
        R7, ab7 = residual_and_jacobian(h, g, ph, left, right, a0, r, 0.1, lapack_gb=True)
        assert ab7.flags.f_contiguous and np.all(ab7[:2] == 0.0)
        np.testing.assert_array_equal(R7, R)
        np.testing.assert_array_equal(ab7[2:], ab)
        np.testing.assert_array_equal(R, residual(h, g, ph, left, right, a0, r, 0.1))
        ws.ab[...] = np.nan                 # stale LU / garbage must not survive
        assemble(h, g, ph, left, right, a0, r, 0.1, ws.rhs, ws.ab, 2, ws.flux, negate_R=True,
                 views=ws.views)
        np.testing.assert_array_equal(ws.rhs, -R)
        np.testing.assert_array_equal(ws.ab[2:], ab)
        # the fresh arrays returned earlier are not aliased to the workspace
        R_again, ab_again = residual_and_jacobian(h + 1.0, g, ph, left, right, a0, r, 0.1)
        assert not np.shares_memory(R_again, R) and not np.shares_memory(ab_again, ab)


def test_newton_iteration_is_one_textbook_newton_step_in_place():
    from scipy.linalg import solve_banded
    from scipy.linalg.lapack import dgbsv

    from thesis.thinfilm.stepper import newton_iteration, newton_workspace
    left, right = SIDES["meniscus/precursor"]
    g = Grid(-1.0, 3.0, 200)
    ph = Physics(D=0.3, order=2)
    x = g.x
    h0 = 0.2 + 0.5 * np.exp(-x ** 2) + 0.1 * np.sin(3 * x)
    r = -h0 * 1.01
    R, ab = residual_and_jacobian(h0, g, ph, left, right, 1.0, r, 0.05)
    dh = solve_banded((2, 2), ab, -R)
    ws = newton_workspace(200)
    h = h0.copy()
    upd = newton_iteration(h, g, ph, left, right, 1.0, r, 0.05, 1e-6, ws)
    np.testing.assert_allclose(h, h0 + dh, rtol=1e-12, atol=1e-15)
    assert upd == pytest.approx(np.max(np.abs(dh) / np.maximum(np.abs(h), 1e-6)), rel=1e-10)
    # the LAPACK call factors/solves the workspace buffers in place (no hidden f2py copies)
    assert ws.ab.flags.f_contiguous and ws.ab.shape == (7, 200)
    lub, _, sol, info = dgbsv(2, 2, ws.ab, ws.rhs, overwrite_ab=1, overwrite_b=1)
    assert info == 0 and np.shares_memory(lub, ws.ab) and np.shares_memory(sol, ws.rhs)
    # a non-finite update is reported as inf
    h = h0.copy()
    r_bad = r.copy()
    r_bad[50] = np.nan
    assert newton_iteration(h, g, ph, left, right, 1.0, r_bad, 0.05, 1e-6, ws) == np.inf


def test_newton_solve_returns_fresh_arrays():
    from thesis.thinfilm import StepperOptions
    from thesis.thinfilm.stepper import newton_solve
    left, right = SIDES["walls"]
    g = Grid(0.0, 10.0, 50)
    ph = Physics(D=0.3, order=2)
    h0 = 0.5 + 0.3 * np.cos(np.pi * g.x / 10.0)
    o = StepperOptions()
    h1, it1, ok1, _ = newton_solve(h0, g, ph, left, right, 1.0, -h0, 1e-3, o)
    h1_saved = h1.copy()
    h2, _, ok2, _ = newton_solve(h1, g, ph, left, right, 1.0, -h1, 1e-3, o)
    assert ok1 and ok2 and it1 >= 1
    np.testing.assert_array_equal(h1, h1_saved)      # not overwritten by the second solve
    assert not np.shares_memory(h1, h2) and not np.shares_memory(h0, h1)
