import math

import pytest

from thesis.thinfilm import dimensionless, table_rows
from thesis.thinfilm.physics import format_table


def test_experiment_A_groups_match_thesis():
    gr = dimensionless(0.055, 852.0, 9.0, 0.0298, b_star=2e-6, mu=2.1e-3)
    assert gr.D == pytest.approx(0.353, rel=2e-3)      # Table 4.2
    assert gr.b == pytest.approx(0.0317, rel=2e-3)
    assert gr.A == pytest.approx(2.83, rel=2e-3)        # section 4.5, Fig. 4.9
    assert gr.H == pytest.approx(63.1e-6, rel=2e-3)
    # consistency of (4.6)/(4.8): D = H cot(a) / X and A = 2 kappa (X/H)^2
    cot = 1.0 / math.tan(math.radians(9.0))
    assert gr.D == pytest.approx(gr.H * cot / gr.X, rel=1e-12)
    assert gr.A == pytest.approx(2.0 * gr.kappa * (gr.X / gr.H) ** 2, rel=1e-12)


def test_table_flags_only_BII():
    rows = {r["key"]: r for r in table_rows(0.02)}
    assert rows["BII"]["flag"] and rows["BII"]["D"] == pytest.approx(0.906, abs=1e-3)
    assert [k for k, r in rows.items() if r["flag"]] == ["BII"]
    assert rows["DI@65"]["D"] == pytest.approx(0.0146, rel=5e-3)
    assert "DISAGREES" in format_table()


@pytest.mark.parametrize("kw,name", [
    (dict(tau=-1.0, rho=852.0, alpha_deg=9.0, gamma=0.03), "tau"),
    (dict(tau=0.05, rho=0.0, alpha_deg=9.0, gamma=0.03), "rho"),
    (dict(tau=0.05, rho=852.0, alpha_deg=95.0, gamma=0.03), "alpha_deg"),
    (dict(tau=0.05, rho=852.0, alpha_deg=9.0, gamma=0.03, b_star=-1e-6), "b_star"),
])
def test_bad_physical_input(kw, name):
    with pytest.raises(ValueError, match=name):
        dimensionless(**kw)


def test_cli_table(capsys):
    from thesis.thinfilm.__main__ import main

    assert main(["table"]) == 0
    out = capsys.readouterr().out
    assert "BII" in out and "DISAGREES" in out and "0.3529" in out
