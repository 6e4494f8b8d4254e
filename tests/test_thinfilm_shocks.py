import numpy as np
import pytest

from thesis.thinfilm import (classify_shock, rarefaction_profile, rh_speed, simulate,
                             travelling_wave, undercompressive_state)
from thesis.thinfilm.analysis import find_fronts, front_speed, plateau
from thesis.thinfilm.waves import bifurcation_diagram, classify_region


def test_classify_shock_hand_checked():
    # Fig. 4.2 (right): 0.4 -> 0.1 compressive (f'(0.1)=0.17 < s=0.29 < f'(0.4)=0.32)
    c = classify_shock(0.4, 0.1)
    assert c.kind == "compressive" and c.lax
    assert c.speed == pytest.approx(0.29) and c.char_left == pytest.approx(0.32)
    # 0.6 -> 0.1 undercompressive (4.14): f'(0.6) = 0.12 < f'(0.1) = 0.17 < s = 0.27
    u = classify_shock(0.6, 0.1)
    assert u.kind == "undercompressive" and u.speed == pytest.approx(0.27)
    # section 4.6: h_l = 0.076 -> h_inf = 0.8 is reverse-undercompressive (s = 0.1694 > f'(0.076) = 0.135 > f'(0.8) = -0.32)
    r = classify_shock(0.076, 0.8)
    assert r.kind == "reverse-undercompressive" and r.speed == pytest.approx(0.169424, abs=1e-9)
    # expansion in the convex part h < 1/3: 0.05 -> 0.25 is a rarefaction (4.12)
    assert classify_shock(0.05, 0.25).kind == "rarefaction"
    assert rh_speed(0.5, 0.5) == pytest.approx(0.25)   # = f'(...)? s(h,h) = 2h - 3h^2
    with pytest.raises(ValueError, match="h_left"):
        classify_shock(-0.1, 0.2)


def test_rarefaction_profile_inverts_fprime():
    h = np.linspace(0.0, 1 / 3, 7)
    assert np.allclose(rarefaction_profile(2 * h - 3 * h * h), h)


def test_undercompressive_state_properties():
    h_uc, s = undercompressive_state(0.0317, 0.353)
    assert 0.6 < h_uc < 0.7
    assert s == pytest.approx(rh_speed(h_uc, 0.0317))
    assert s > 2 * h_uc - 3 * h_uc ** 2                 # (4.14): f'(h_uc) < s
    tw = travelling_wave(h_uc, 0.0317, 0.353, uc_tol=1e-6)
    assert tw.exists and tw.kind == "undercompressive"
    assert abs(tw.h[-1] - 0.0317) < 2e-3
    no = travelling_wave(h_uc + 0.05, 0.0317, 0.353)
    assert not no.exists
    with pytest.raises(ValueError, match="b"):
        undercompressive_state(0.0, 0.3)


def test_regions_at_b_0353():
    h_uc = 0.65
    assert classify_region(0.2, 0.0353, 0.43, h_uc) == 1
    assert classify_region(0.5, 0.0353, 0.43, h_uc) == 2
    assert classify_region(0.8, 0.0353, 0.43, h_uc) == 3
    assert classify_region(0.5, 0.0353, 0.43, None) == 1
    assert classify_region(0.34, 0.0353, 0.43, h_uc, h_c=0.36) == 4   # h_1 = 0.3147 < h < h_c
    reg, huc, h1, hc = bifurcation_diagram(0.0353, [0.43], [0.2, 0.5, 0.8])
    assert list(reg[:, 0]) == [1, 2, 3]
    assert h1[0] == pytest.approx(1 - 0.0353 - huc[0])
    # direct compressive waves end at h_1 for D = 0.43 (PDE: double shock just above)
    assert hc[0] == pytest.approx(h1[0], abs=5e-3)


def test_pde_preserves_travelling_wave_at_rh_speed():
    tw = travelling_wave(0.3, 0.1, 0.5)
    assert tw.exists and tw.kind == "compressive"
    L, N = 60.0, 1200
    x = -20 + (np.arange(N) + 0.5) * L / N
    xi = tw.xi - tw.xi[np.argmin(np.abs(tw.h - 0.2))]
    h0 = np.interp(x, xi, tw.h, left=0.3, right=0.1)
    s = simulate("front", t_end=40.0, D=0.5, b=0.1, h_inf=0.3, x_left=20.0, L=L, N=N,
                 h_init=h0, save_times=[20.0, 30.0, 40.0], progress=False)
    pos = [find_fronts(s.x, h, 0.2)[-1] for h in s.h[1:]]
    speed = front_speed(s.t[1:], pos)
    assert speed == pytest.approx(tw.speed, rel=0.01)
    # shape: profile at t=40 shifted back onto t=20 profile
    back = np.interp(s.x, s.x - (pos[-1] - pos[0]), s.h[-1])
    inner = (s.x > -10) & (s.x < 20)
    assert np.max(np.abs(back - s.h[1])[inner]) < 5e-3   # 2.5% of the jump 0.2


def test_analysis_helpers():
    x = np.linspace(0, 10, 1001)
    h = np.where(x < 5, 0.4, 0.05)
    assert find_fronts(x, h, 0.2)[0] == pytest.approx(5.0, abs=0.01)
    p = plateau(x, h, 0.0, 4.0)
    assert p[0] == pytest.approx(0.4)
    assert front_speed([0, 1, 2], [1, 1.5, 2]) == pytest.approx(0.5)


@pytest.mark.slow
def test_reproduce_ruc_and_meniscus_values_default_resolution(tmp_path):
    """Long reproduction (about 1-2 min): Fig. 4.3 h_inf and Fig. 4.13 h_l at dx = 0.05."""
    from thesis.thinfilm.figures import fig_4_3, fig_4_13

    r43 = {r["quantity"]: r["measured"] for r in fig_4_3(tmp_path, progress=False)}
    assert r43["h_inf (D=0.353,b=0.0317)"] == pytest.approx(0.43, rel=0.01)
    assert r43["shock structure"] == "compressive-undercompressive double shock"
    r413 = {r["quantity"]: r["measured"] for r in fig_4_13(tmp_path, progress=False)}
    # converged value 0.0685 (thesis 0.076, see report); RUC for 0.6 and 0.8
    assert r413["h_l (h_inf=0.8)"] == pytest.approx(0.0687, abs=0.002)
    assert r413["shock h_l->0.8"] == "reverse-undercompressive"
    assert r413["shock h_l->0.6"] == "reverse-undercompressive"
    assert (tmp_path / "fig4_13.png").stat().st_size > 10_000


def test_reverse_undercompressive_state_gives_h_l_without_time_stepping():
    """Section 4.6: the plateau h_l between the fan and the RUC shock (h_inf = 0.8, D = 0.0146)
    is the left state of the RUC travelling wave of (4.18a): 0.0692, not the thesis's 0.076."""
    from thesis.thinfilm.waves import reverse_undercompressive_state

    h_l, s = reverse_undercompressive_state(0.8, 0.0146)
    assert h_l == pytest.approx(0.06916, abs=3e-4)
    assert s == pytest.approx(rh_speed(h_l, 0.8))
    assert classify_shock(h_l, 0.8).kind == "reverse-undercompressive"
    assert abs(h_l - 0.076) > 0.05 * 0.076
    h_l6, _ = reverse_undercompressive_state(0.6, 0.0146)     # thesis: h_l ~ 0.17
    assert 0.15 < h_l6 < 0.18
    with pytest.raises(ValueError, match="h_right"):
        reverse_undercompressive_state(0.0, 0.0146)


def test_region_4_beyond_end_of_uc_branch():
    """Fig. 4.4: the UC branch ends at D* ~ 2.57 (b = 0.0353); above it left states over
    h_T = (1 - b)/2 form region (4); without uc_ended the old rule (1) is kept."""
    from thesis.thinfilm.waves import tangent_state

    assert tangent_state(0.0353) == pytest.approx(0.48235)
    assert classify_region(0.7, 0.0353, 3.0, None, uc_ended=True) == 4
    assert classify_region(0.3, 0.0353, 3.0, None, uc_ended=True) == 1
    assert classify_region(0.7, 0.0353, 3.0, None) == 1
    reg, huc, _, _ = bifurcation_diagram(0.0353, [2.0, 3.0], [0.3, 0.5, 0.7],
                                         with_direct_waves=False)
    assert np.isfinite(huc[0]) and np.isnan(huc[1])
    assert list(reg[:, 0]) == [1, 2, 3]
    assert list(reg[:, 1]) == [1, 4, 4]


def test_fig_4_7_meniscus_domain_gives_flat_film(tmp_path):
    """Fig. 4.7 (D = 0.0338, b = 0.028): with the meniscus domain several D^{-1/2} long the
    meniscus draws a flat film h_inf ~ 0.0334 (thesis 0.036) and a compressive front; the old
    domain x_left = 5 < D^{-1/2} drained the meniscus (pinch to h < 0.01, no film)."""
    from thesis.thinfilm.figures import fig_4_7, meniscus_run

    rows = {r["quantity"]: r for r in fig_4_7(tmp_path, progress=False)}
    h_inf = rows["h_inf from meniscus (D=0.0338,b=0.028)"]["measured"]
    assert h_inf == pytest.approx(0.0334, abs=5e-4)
    assert rows["front type"]["measured"] == "compressive"
    assert rows["h_inf, 1st-order upwind (thesis scheme)"]["measured"] > h_inf
    old = meniscus_run(0.0338, 0.028, 100.0, dx=0.1, x_left=5.0, L=45.0, n_save=1,
                       progress=False)
    assert np.min(old.h[-1][old.x > -4.0]) < 0.01


def test_fig_4_14_shift_with_domain_from_x_minus_20(tmp_path):
    """Fig. 4.14: with the meniscus domain starting at x = -20 (5 above the cone vertex
    x = -x0 = -25) the A = 68.9 front trails the A = 0 front by 5.3 at t = 300."""
    from thesis.thinfilm.figures import fig_4_14

    (row,) = fig_4_14(tmp_path, dx=0.1, progress=False)
    assert row["measured"] == pytest.approx(5.3, abs=0.15)
