"""thesis.diva experiments end-to-end at tiny sizes (sklearn data; a few seconds each) and the CLI."""
import numpy as np
import pytest
import torch

from thesis.diva import experiments as E
from thesis.diva import extractors as F


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("DIVA_CACHE", str(tmp_path / "cache"))
    F._IMAGE_STATE.clear()


def _in01(values):
    v = np.asarray(values, dtype=float)
    return bool(((v >= 0) & (v <= 1)).all())


def test_helpers():
    assert E.seed_list(3) == [0, 1, 2] and E.seed_list((4, 7)) == [4, 7]
    with pytest.raises(ValueError):
        E.seed_list(0)
    with pytest.raises(ValueError, match="nope"):
        E.get_experiment("nope")
    y = torch.arange(50) % 5
    y2, noisy = E.corrupt_labels(y, 0.2, 5, seed=0)
    assert int(noisy.sum()) == 10 and bool((y2[noisy] != y[noisy]).all()) and torch.equal(y2[~noisy], y[~noisy])
    d = E.load("wine", 0, ("train", "test"))
    Z, yt = d["train"]
    assert torch.all(Z[:, -1] == 1)
    lam = E.choose_lam(Z, yt)
    assert lam in E.LAM_GRID.tolist()
    assert 0 <= E.ridge_error(Z, yt, lam, *d["test"]) <= 1


def test_reweight(tmp_path):
    r = E.get_experiment("reweight")(datasets=("wine", "breast_cancer"), seeds=2, max_train=80,
                                     out_dir=tmp_path, progress=False, verbose=False)
    for ds in ("wine", "breast_cancer"):
        for m, errs in r["errors"][ds].items():
            assert len(errs) == 2 and _in01(errs), (ds, m)
        assert max(r["errors"][ds]["original"]) < 0.3
        assert _in01(r["down_weighted"][ds])
    assert "DIVA Reweight" in r["table"] and "[thesis] Aircrafts" in r["table"] and "54.64" in r["table"]
    assert (tmp_path / "reweight.png").stat().st_size > 0


def test_extend():
    r = E.get_experiment("extend")(datasets=("digits",), seeds=2, n_steps=4, max_core=80, max_pool=80,
                                   progress=False, verbose=False)
    c = r["curves"]["digits"]
    assert c["diva"].shape == (2, 5) and c["uniform"].shape == (2, 5)
    assert list(c["sizes"]) == [0, 20, 40, 60, 80]
    assert _in01(c["diva"]) and _in01(c["uniform"])
    # both start from the core set and end with the whole pool: same fits
    np.testing.assert_allclose(c["diva"][:, 0], c["uniform"][:, 0])
    np.testing.assert_allclose(c["diva"][:, -1], c["uniform"][:, -1])
    assert all(0 <= s <= 80 for s in r["stop"]["digits"])
    assert "Table 2.2" in r["table"] and "60.01" in r["table"]


def test_outliers(tmp_path):
    r = E.get_experiment("outliers")(datasets=("digits",), seeds=2, max_train=250, out_dir=tmp_path,
                                     progress=False, verbose=False)
    for s in ("diva", "loo_loss", "confidence"):
        assert min(r["auc"]["digits"][s]) > 0.6
    assert min(r["f1_eps0"]["digits"]) > 0.5
    assert _in01(r["precision_eps0"]["digits"]) and _in01(r["recall_eps0"]["digits"])
    e = r["test_error"]["digits"]
    assert _in01(e["noisy"] + e["drop"] + e["clean"])
    assert (tmp_path / "outliers.png").stat().st_size > 0


def test_augment():
    r = E.get_experiment("augment")(datasets=("digits",), seeds=2, max_train=200, progress=False,
                                    verbose=False)
    p, pc = r["p"]["digits"], r["p_class"]["digits"]
    assert p.shape == (2, 3) and pc.shape == (2, 10, 3)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(pc.sum(2), 1.0, atol=1e-9)
    assert p[:, 0].mean() > 1 / 3  # the un-flipped digits keep the most weight
    assert all(_in01(v) for v in r["test_error"]["digits"].values())
    with pytest.raises(ValueError, match="objective"):
        E.get_experiment("augment")(objective="bogus")


def test_overfit():
    r = E.get_experiment("overfit")(datasets=("digits",), seeds=2, steps=6, lrs=(0.5,), n_val=60,
                                    max_train=200, progress=False, verbose=False)
    v, t = r["val"][("digits", 0.5)], r["test"][("digits", 0.5)]
    assert v.shape == (2, 7) and t.shape == (2, 7) and _in01(v) and _in01(t)
    assert v[:, -1].mean() <= v[:, 0].mean()  # optimizing the validation loss lowers the validation error


def test_cli(tmp_path, capsys):
    from thesis.diva.__main__ import main

    assert main(["outliers", "--seeds", "2", "--datasets", "wine", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Fig. 2.3 analogue" in out and "AUC DIVA" in out
    assert (tmp_path / "outliers.png").exists()


def test_low_data_subsample():
    assert E.parse_dataset("mnist-cnn-transfer@20") == ("mnist-cnn-transfer", 20)
    assert E.parse_dataset("digits") == ("digits", None)
    for bad in ("digits@", "digits@0", "digits@x", "@5"):
        with pytest.raises(ValueError, match="spec"):
            E.parse_dataset(bad)
    full = E.load("wine", 0, ("train", "pool", "test"))
    d = E.load("wine@7", 0, ("train", "pool", "test"))
    for sp in ("train", "pool"):
        Z, y = d[sp]
        assert torch.equal(torch.bincount(y), torch.full((3,), 7))  # exactly k per class
        # rows of the full split (same features), no duplicates
        Zf = full[sp][0]
        match = (Z[:, None, :] == Zf[None, :, :]).all(-1)
        assert bool((match.sum(1) == 1).all()) and len(set(match.int().argmax(1).tolist())) == len(y)
    Zt = d["test"][0]
    assert torch.equal(Zt, full["test"][0])  # test split unchanged
    assert not bool((d["train"][0][:, None, :] == Zt[None, :, :]).all(-1).any())  # disjoint from test
    again, other = E.load("wine@7", 0, ("train",)), E.load("wine@7", 1, ("train",))
    assert torch.equal(again["train"][0], d["train"][0])  # seed-deterministic
    assert other["train"][0].shape == d["train"][0].shape
    assert E.row_seeds("wine@7", [0, 1, 2], 5) == [0, 1, 2, 3, 4] and E.row_seeds("wine", [0, 1, 2], 5) == [0, 1, 2]
    with pytest.raises(ValueError, match="fewer than k"):
        E.load("wine@40", 0, ("train",))
    r = E.get_experiment("reweight")(datasets=("wine@5",), seeds=2, low_data_seeds=3, lam_scales=(1.0,),
                                     progress=False, verbose=False)
    assert r["n_train"]["wine@5"] == 15 and len(r["errors"]["wine@5"]["diva"]) == 3 and "W-T-L" in r["table"]
