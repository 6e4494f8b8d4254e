"""DIVA Reweight / Extend / detrimental detection / augmentation weights (thesis.diva.methods, Dukler 2021
Section 2.3.4, eqs. 2.13-2.14, Fig. 2.5) and the baselines of thesis.diva.baselines, on standardized
sklearn digits (float64) with 20% flipped labels."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

import wgm_kernels as W
from thesis.diva import baselines as B
from thesis.diva import methods as M

LAM = 10.0


@pytest.fixture(scope="module")
def data(one_thread):
    X, y = load_digits(return_X_y=True)
    X = (X - X.mean(0)) / (X.std(0) + 1e-8)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))
    tr, va = idx[:400], idx[600:800]
    noisy = y[tr].copy()
    flip = rng.random(400) < 0.2
    noisy[flip] = (noisy[flip] + rng.integers(1, 10, flip.sum())) % 10  # a wrong label, uniformly
    return dict(Z=torch.tensor(X[tr]), y=torch.tensor(noisy), y_clean=torch.tensor(y[tr]), flip=flip,
                val=(torch.tensor(X[va]), torch.tensor(y[va])))


def _onehot(y, k=10):
    return torch.nn.functional.one_hot(y, k).double()


def _mean_loss(P, Y, mis=False):
    ce = -(Y * torch.log_softmax(P, -1)).sum(-1)
    if mis:
        ce = ce * (P.argmax(-1) != Y.argmax(-1)).double()
    return float(ce.mean())


# --------------------------------------------------------------------------------------------------- targets

def test_as_targets():
    y = torch.tensor([2, 0, 1, 2])
    T = M.as_targets(y)
    assert T.shape == (4, 3) and T.dtype == torch.get_default_dtype()
    assert torch.equal(T.argmax(1), y) and torch.equal(T.sum(1), torch.ones(4))
    assert M.as_targets(y, 5, dtype=torch.float64).shape == (4, 5)
    soft = torch.rand(4, 3, dtype=torch.float64)
    assert M.as_targets(soft) is soft
    with pytest.raises(ValueError, match="Y labels must be >= 0"):
        M.as_targets(torch.tensor([0, -1]))
    with pytest.raises(ValueError, match="Y labels must be < k=2"):
        M.as_targets(torch.tensor([0, 2]), 2)
    with pytest.raises(ValueError, match=r"Y with a float dtype must have shape \(n, k\)"):
        M.as_targets(torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="Y must have k=4 columns"):
        M.as_targets(soft, 4)


def test_integer_labels_equal_onehot(data):
    Z, y = data["Z"], data["y"]
    torch.testing.assert_close(M.detrimental_scores(Z, y, LAM), M.detrimental_scores(Z, _onehot(y), LAM))
    r1, r2 = M.reweight(Z, y, LAM, steps=2), M.reweight(Z, _onehot(y), LAM, steps=2)
    torch.testing.assert_close(r1.alpha, r2.alpha)


# -------------------------------------------------------------------------------------------------- reweight

@pytest.mark.parametrize("use_val", [False, True])
@pytest.mark.parametrize("mis", [True, False])
def test_reweight_lowers_its_objective(data, use_val, mis):
    Z, y = data["Z"], data["y"]
    val = data["val"] if use_val else None
    r = M.reweight(Z, y, LAM, misclassified_only=mis, val=val)
    assert len(r.history) == 5 and r.loss_history.shape == (5,)
    assert torch.equal(r.history[0].alpha, torch.ones(400, dtype=torch.float64))
    assert all(bool((h.alpha >= 0).all()) for h in r.history) and bool((r.alpha >= 0).all())
    assert r.loss_history[-1] < 0.95 * r.loss_history[0]
    # the records hold the objective of the α they store: recompute the last one independently
    fit = W.ridge_loo(Z, _onehot(y), LAM, r.alpha)
    P, T = (fit.loo, _onehot(y)) if val is None else (val[0] @ fit.coef, _onehot(val[1]))
    assert r.loss_history[-1].item() == pytest.approx(_mean_loss(P, T, mis), rel=1e-10)
    assert r.history[-1].loss == pytest.approx(_mean_loss(P, T), rel=1e-10)
    assert r.history[-1].error == pytest.approx(float((P.argmax(1) != T.argmax(1)).double().mean()))
    assert torch.equal(r.history[-1].alpha, r.alpha) and r.history[-1].grad_scale is None


def test_reweight_hard_margin_first_order_descent(data):
    # the hard-margin objective is piecewise smooth: a small step along -g must lower it
    r = M.reweight(data["Z"], data["y"], LAM, steps=1, lr=0.01, misclassified_only=True)
    assert r.loss_history[1] < r.loss_history[0]


def test_reweight_step_rule(data):
    Z, y = data["Z"], data["y"]
    g = W.dataset_derivative(Z, _onehot(y), LAM, misclassified_only=True)
    r = M.reweight(Z, y, LAM, steps=1)  # eq. 2.13 with g / mean|g|, projected onto α >= 0
    torch.testing.assert_close(r.alpha, (1 - 0.15 * g / g.abs().mean()).clamp_min(0))
    assert r.history[0].grad_scale == pytest.approx(float(g.abs().mean()))
    assert int((r.alpha == 0).sum()) > 0  # the projection is active at the defaults
    rm = M.reweight(Z, y, LAM, steps=1, lr=0.2, normalize="max_abs")
    assert float((rm.alpha - 1).abs().max()) == pytest.approx(0.2)
    rn = M.reweight(Z, y, LAM, steps=1, lr=0.2, normalize="none")
    torch.testing.assert_close(rn.alpha, (1 - 0.2 * g).clamp_min(0))


def test_reweight_zero_steps(data):
    r = M.reweight(data["Z"], data["y"], LAM, steps=0)
    assert torch.equal(r.alpha, torch.ones(400, dtype=torch.float64))
    assert r.loss_history.shape == (1,) and len(r.history) == 1


def test_reweight_cleans_noise_and_hard_margin_helps_clean_data(data):
    Z, y, flip = data["Z"], data["y"], data["flip"]
    r = M.reweight(Z, y, LAM, misclassified_only=False)
    assert roc_auc_score(flip, -r.alpha.numpy()) > 0.9  # mislabelled samples are down-weighted
    assert float(r.alpha[flip].mean()) < 0.5 * float(r.alpha[~flip].mean())
    rc = M.reweight(Z, data["y_clean"], LAM)  # Appendix 2.A.2 setting: hard margin on curated labels
    assert rc.history[-1].error < rc.history[0].error


def test_reweight_deterministic(data):
    a = M.reweight(data["Z"], data["y"], LAM, val=data["val"])
    b = M.reweight(data["Z"], data["y"], LAM, val=data["val"])
    assert torch.equal(a.alpha, b.alpha) and torch.equal(a.loss_history, b.loss_history)


# ---------------------------------------------------------------------------------------------------- extend

def _split(data, n_core=100):
    Z, y = data["Z"], data["y"]
    return Z[:n_core], y[:n_core], Z[n_core:], y[n_core:]


def test_extend_picks_most_negative_and_stops(data):
    Zc, yc, Zp, yp = _split(data)
    e = M.extend(Zc, yc, Zp, yp, LAM, step_size=40, max_steps=None)
    Z, Y = torch.cat([Zc, Zp]), _onehot(torch.cat([yc, yp]))
    a0 = torch.cat([torch.ones(100), torch.zeros(300)]).double()
    g = W.dataset_derivative(Z, Y, LAM, a0)[100:]
    first = torch.sort(g, stable=True).indices[:40]
    assert torch.equal(e.history[0].picked, first) and int(e.order[0]) == int(g.argmin())
    torch.testing.assert_close(e.history[0].derivative, g[first])
    assert e.history[0].n_negative == int((g < 0).sum())
    # distinct picks, step size respected, only negative derivatives taken
    assert e.order.unique().numel() == e.order.numel() > 0
    assert all(h.picked.numel() == 40 for h in e.history[:-1]) and 1 <= e.history[-1].picked.numel() <= 40
    assert all(bool((h.derivative < 0).all()) for h in e.history)
    assert torch.equal(torch.cat([h.picked for h in e.history]), e.order)
    assert torch.equal(e.alpha.nonzero().flatten().sort().values, e.order.sort().values)
    # stopped because no remaining derivative is negative
    assert e.stop_reason == "no_negative" and e.order.numel() < 300
    g_end = W.dataset_derivative(Z, Y, LAM, torch.cat([torch.ones(100, dtype=torch.float64), e.alpha]))[100:]
    left = torch.ones(300, dtype=torch.bool)
    left[e.order] = False
    assert bool((g_end[left] >= 0).all())
    assert e.loss_history.shape == (len(e.history) + 1,) and e.loss_history[-1] < e.loss_history[0]
    # the selected samples are mostly correctly labelled (pool noise rate ~20%)
    assert data["flip"][100:][e.order.numpy()].mean() < 0.05


def test_extend_max_steps_forced_and_joint_labels(data):
    Zc, yc, Zp, yp = _split(data)
    e = M.extend(Zc, yc, Zp, yp, LAM, step_size=7, max_steps=2)
    assert e.stop_reason == "max_steps" and e.order.numel() == 14 and len(e.history) == 2
    assert M.extend(Zc, yc, Zp, yp, LAM, step_size=7, max_steps=0).order.numel() == 0
    f = M.extend(Zc, yc, Zp[:60], yp[:60], LAM, step_size=25, max_steps=None, stop_at_nonnegative=False)
    assert f.stop_reason == "exhausted" and torch.equal(f.order.sort().values, torch.arange(60))
    assert [h.picked.numel() for h in f.history] == [25, 25, 10]
    # core labels 0..4 only, pool labels 5..9 only: the label count comes from core ∪ pool
    lo, hi = yc < 5, yp >= 5
    j = M.extend(Zc[lo], yc[lo], Zp[hi], yp[hi], LAM, step_size=5, max_steps=3)
    k = M.extend(Zc[lo], _onehot(yc[lo]), Zp[hi], _onehot(yp[hi]), LAM, step_size=5, max_steps=3)
    assert torch.equal(j.order, k.order) and j.order.numel() == 15


def test_extend_with_val_and_deterministic(data):
    Zc, yc, Zp, yp = _split(data)
    val = data["val"]
    e = M.extend(Zc, yc, Zp, yp, LAM, step_size=10, max_steps=3, val=val)
    Z, Y = torch.cat([Zc, Zp]), _onehot(torch.cat([yc, yp]))
    a0 = torch.cat([torch.ones(100), torch.zeros(300)]).double()
    g = W.dataset_derivative(Z, Y, LAM, a0, val=(val[0], _onehot(val[1])))[100:]
    assert torch.equal(e.history[0].picked, torch.sort(g, stable=True).indices[:10])
    assert e.loss_history[-1] < e.loss_history[0]
    e2 = M.extend(Zc, yc, Zp, yp, LAM, step_size=10, max_steps=3, val=val)
    assert torch.equal(e.order, e2.order) and torch.equal(e.loss_history, e2.loss_history)


# ----------------------------------------------------------------------------------------------- detrimental

def test_detrimental_detects_flipped_labels(data):
    Z, y, flip = data["Z"], data["y"], data["flip"]
    s = M.detrimental_scores(Z, y, LAM)
    assert s.shape == (400,) and roc_auc_score(flip, s.numpy()) > 0.9
    assert torch.equal(M.detrimental(Z, y, LAM), s > 0)
    d = M.detrimental(Z, y, LAM, eps=0.1)
    assert torch.equal(d, s > 0.1) and 0 < int(d.sum()) < int((s > 0).sum())
    assert flip[M.detrimental(Z, y, LAM).numpy()].mean() > 0.4  # vs 20% base rate
    w = torch.linspace(0.5, 1.5, 400, dtype=torch.float64)
    torch.testing.assert_close(M.detrimental_scores(Z, y, LAM, weight=w, val=data["val"]),
                               W.dataset_derivative(Z, _onehot(y), LAM, w,
                                                    val=(data["val"][0], _onehot(data["val"][1]))))


# ---------------------------------------------------------------------------------------------- augmentation

def test_augmentation_weights_penalize_corrupting_group(data):
    Z, y = data["Z"][:200], data["y_clean"][:200]
    gen = torch.Generator().manual_seed(0)
    jitter = lambda: Z + 0.3 * torch.randn(Z.shape, generator=gen, dtype=Z.dtype)  # noqa: E731
    Za = torch.cat([Z, jitter(), jitter()])
    ya = torch.cat([y, y, torch.randint(0, 10, (200,), generator=gen)])  # group 2 randomizes labels
    groups = torch.arange(3).repeat_interleave(200)
    a = M.augmentation_weights(Za, ya, groups, LAM, names=["id", "jitter", "relabel"])
    assert a.p.shape == (3,) and float(a.p.sum()) == pytest.approx(1.0)
    assert int(a.p.argmin()) == 2 and float(a.p[2]) < 0.5 * float(a.p[:2].min())
    assert a.names == ("id", "jitter", "relabel") and torch.equal(a.counts, torch.tensor([200, 200, 200]))
    torch.testing.assert_close(a.p, torch.stack([a.alpha[groups == j].sum() for j in range(3)]) / a.alpha.sum())
    b = M.augmentation_weights(Za, ya, groups, LAM, steps=0)
    torch.testing.assert_close(b.p, torch.full((3,), 1 / 3, dtype=torch.float64))
    assert b.names == ("t0", "t1", "t2")


# ------------------------------------------------------------------------------------------------- baselines

def test_uniform_extend():
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    o = B.uniform_extend(50, 20, generator=g())
    assert o.shape == (20,) and o.dtype == torch.int64 and o.unique().numel() == 20
    assert bool(((o >= 0) & (o < 50)).all())
    assert torch.equal(o, B.uniform_extend(50, 20, generator=g()))
    assert torch.equal(B.uniform_extend(50, 50, generator=g())[:20], o)  # a prefix of one permutation
    assert B.uniform_extend(5, 0).numel() == 0
    with pytest.raises(ValueError, match="n_select"):
        B.uniform_extend(5, 6)
    with pytest.raises(ValueError, match="n_pool"):
        B.uniform_extend(0, 0)


def test_score_baselines(data):
    Z, y, flip = data["Z"], data["y"], data["flip"]
    loss = B.loo_loss_scores(Z, y, LAM)
    fit = W.ridge_loo(Z, _onehot(y), LAM)
    torch.testing.assert_close(loss, -(torch.log_softmax(fit.loo, -1) * _onehot(y)).sum(1))
    mse = B.loo_loss_scores(Z, y, LAM, loss="mse")
    torch.testing.assert_close(mse, (fit.loo - _onehot(y)).square().sum(1))
    conf = B.confidence_scores(Z, y, LAM)
    assert conf.shape == (400,) and bool(((conf >= 0) & (conf <= 1)).all())
    assert roc_auc_score(flip, conf.numpy()) > 0.9 and roc_auc_score(flip, loss.numpy()) > 0.9


def test_weight_baselines(data):
    Z, y, flip = data["Z"], data["y"], data["flip"]
    a = B.loss_reweight(Z, y, LAM, steps=2, temperature=0.5)
    assert a.shape == (400,) and bool((a >= 0).all()) and float(a.mean()) == pytest.approx(1.0)
    assert roc_auc_score(flip, -a.numpy()) > 0.9
    assert torch.equal(B.loss_reweight(Z, y, LAM, steps=0), torch.ones(400, dtype=torch.float64))
    tc = B.threshold_closeness_weights(Z, y, LAM, eps=0.1)
    p = 1 - B.confidence_scores(Z, y, LAM)
    torch.testing.assert_close(tc, (p * (1 - p) + 0.1) / (p * (1 - p) + 0.1).mean())
    assert bool((tc > 0).all()) and float(tc.mean()) == pytest.approx(1.0)
    tf = B.threshold_closeness_weights(Z, y, LAM, prediction="fitted")
    assert tf.shape == (400,) and not torch.allclose(tf, B.threshold_closeness_weights(Z, y, LAM))


# ----------------------------------------------------------------------------------------------- bad input

def _bad_calls(Z, y):
    Zp, yp = Z[:5], y[:5]
    return [
        ("Y has 3 rows but Z has 4", lambda: M.detrimental_scores(Z, y[:3], LAM)),
        ("lam", lambda: M.reweight(Z, y, -1.0)),
        ("lam", lambda: B.loo_loss_scores(Z, y, 0.0)),
        ("steps", lambda: M.reweight(Z, y, LAM, steps=-1)),
        ("lr", lambda: M.reweight(Z, y, LAM, lr=0.0)),
        ("normalize", lambda: M.reweight(Z, y, LAM, normalize="l2")),
        ("loss", lambda: M.detrimental_scores(Z, y, LAM, loss="hinge")),
        ("misclassified_only", lambda: M.reweight(Z, y, LAM, loss="mse")),
        (r"val\[0\] \(Z_val\) must have m=64", lambda: M.reweight(Z, y, LAM, val=(Z[:, :8], y))),
        (r"val\[1\] \(Y_val\) has 40 rows but val\[0\] \(Z_val\) has 4", lambda: M.reweight(Z, y, LAM, val=(Z[:4], y))),
        ("val must be None or a pair", lambda: M.reweight(Z, y, LAM, val=Z)),
        ("weight must have shape", lambda: M.detrimental_scores(Z, y, LAM, weight=torch.ones(3).double())),
        ("weight must be finite and >= 0",
         lambda: M.detrimental_scores(Z, y, LAM, weight=-torch.ones(len(y)).double())),
        ("eps", lambda: M.detrimental(Z, y, LAM, eps=float("nan"))),
        ("step_size", lambda: M.extend(Z, y, Zp, yp, LAM, step_size=0, max_steps=1)),
        ("max_steps", lambda: M.extend(Z, y, Zp, yp, LAM, step_size=1, max_steps=-1)),
        ("Z_pool must be a non-empty", lambda: M.extend(Z, y, Zp[:0], yp[:0], LAM, step_size=1, max_steps=1)),
        ("Z_pool must have m=64", lambda: M.extend(Z, y, Zp[:, :5], yp, LAM, step_size=1, max_steps=1)),
        ("Y_pool has 4 rows but Z_pool has 5", lambda: M.extend(Z, y, Zp, yp[:4], LAM, step_size=1, max_steps=1)),
        ("Y_core has", lambda: M.extend(Z, y[:-1], Zp, yp, LAM, step_size=1, max_steps=1)),
        (r"groups must have shape \(", lambda: M.augmentation_weights(Z, y, torch.zeros(3, dtype=torch.long), LAM)),
        ("groups must hold ids", lambda: M.augmentation_weights(Z, y, -torch.ones(len(y), dtype=torch.long), LAM)),
        ("groups must be an integer", lambda: M.augmentation_weights(Z, y, torch.zeros(len(y)), LAM)),
        ("names must have K=1", lambda: M.augmentation_weights(Z, y, torch.zeros(len(y), dtype=torch.long), LAM,
                                                               names=["a", "b"])),
        ("Z_aug contains NaN",
         lambda: M.augmentation_weights(Z * float("nan"), y, torch.zeros(len(y), dtype=torch.long), LAM)),
        ("Z_core must have at least one row", lambda: M.extend(Z[:0], y[:0], Zp, yp, LAM, step_size=1, max_steps=1)),
        ("temperature", lambda: B.loss_reweight(Z, y, LAM, temperature=0)),
        ("steps", lambda: B.loss_reweight(Z, y, LAM, steps=-2)),
        ("eps", lambda: B.threshold_closeness_weights(Z, y, LAM, eps=-1)),
        ("prediction", lambda: B.threshold_closeness_weights(Z, y, LAM, prediction="train")),
    ]


@pytest.mark.parametrize("i", range(30))
def test_bad_input_raises_naming_argument(data, i):
    Z, y = data["Z"][:40], data["y"][:40]
    calls = _bad_calls(Z, y)
    assert len(calls) == 30
    match, call = calls[i]
    with pytest.raises(ValueError, match=match):
        call()


def test_features_must_be_float_tensor():
    with pytest.raises(TypeError, match="Z must be a floating-point tensor"):
        M.reweight(torch.ones(4, 2, dtype=torch.long), torch.tensor([0, 1, 0, 1]), LAM)
