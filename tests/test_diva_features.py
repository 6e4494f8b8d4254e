"""thesis.diva.extractors: shapes/dtypes, disjoint splits, on-disk cache, determinism, registry errors."""
import numpy as np
import pytest
import torch

from thesis.diva import extractors as F


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIVA_CACHE", str(tmp_path / "cache"))
    F._IMAGE_STATE.clear()
    yield
    F._IMAGE_STATE.clear()


@pytest.mark.parametrize("name,m,n_total,k", [("digits", 64, 1797, 10), ("wine", 13, 178, 3),
                                              ("breast_cancer", 30, 569, 2), ("digits-rff", F.RFF_DIM, 1797, 10)])
def test_shapes_dtypes_and_sizes(name, m, n_total, k):
    sizes = 0
    for split in F.SPLITS:
        Z, y = F.features(name, split, seed=0)
        assert Z.dtype == torch.float64 and y.dtype == torch.int64
        assert Z.ndim == 2 and Z.shape[1] == m and y.shape == (Z.shape[0],)
        assert torch.isfinite(Z).all()
        assert set(y.tolist()) == set(range(k))  # stratified: every class in every split
        sizes += len(y)
    assert sizes == n_total
    Z, _ = F.features(name, "train", seed=0)
    if not name.endswith("-rff"):  # standardized with the train statistics
        assert torch.allclose(Z.mean(0), torch.zeros(m, dtype=Z.dtype), atol=1e-8)


def test_stratified_split_is_a_disjoint_partition():
    y = np.repeat(np.arange(4), [10, 23, 7, 60])
    idx = F.stratified_split(y, seed=3)
    allidx = np.concatenate(list(idx.values()))
    assert len(allidx) == len(y) and len(np.unique(allidx)) == len(y)
    for s, frac in zip(F.SPLITS, F.FRACTIONS):
        assert abs(len(idx[s]) - frac * len(y)) <= 4


def test_image_splits_disjoint_and_aligned_with_features():
    sp = F.image_splits("digits", seed=1)
    rows = {s: {x.tobytes() for x in X} for s, (X, _) in sp.items()}
    from sklearn.datasets import load_digits

    X = load_digits().images
    # disjoint as index sets: the split sizes add up to the data set and no image is in two splits more
    # often than it is duplicated in the raw data
    assert sum(len(v[1]) for v in sp.values()) == len(X)
    dup = len(X) - len({x.tobytes() for x in X})
    assert sum(len(rows["train"] & rows[s]) for s in ("pool", "val", "test")) <= dup
    Z, y = F.features("digits", "train", seed=1)
    assert torch.equal(y, torch.as_tensor(sp["train"][1]))
    Zi = F.image_features("digits", sp["train"][0], seed=1)
    assert torch.allclose(Zi, Z)


def test_cache_second_call_loads_same_values(tmp_path):
    calls = []

    def fn(seed):
        calls.append(seed)
        g = np.random.default_rng(seed)
        return {"train": (g.standard_normal((5, 3)), np.arange(5) % 2),
                "test": (g.standard_normal((4, 3)), np.arange(4) % 2)}

    F.register_features("_test_counting", fn, overwrite=True)
    try:
        Z1, y1 = F.features("_test_counting", "train", seed=2)
        Z2, y2 = F.features("_test_counting", "train", seed=2)
        F.features("_test_counting", "test", seed=2)
        assert calls == [2]
        assert torch.equal(Z1, Z2) and torch.equal(y1, y2)
        assert list((tmp_path / "cache").glob("_test_counting_seed2_*.pt"))
        F.features("_test_counting", "train", seed=2, cache=False)
        assert calls == [2, 2]
    finally:
        F._REGISTRY.pop("_test_counting", None)


def test_real_dataset_cache_roundtrip(tmp_path):
    Z1, y1 = F.features("wine", "val", seed=4)
    assert list((tmp_path / "cache").glob("wine_seed4_*.pt"))
    Z2, y2 = F.features("wine", "val", seed=4)
    assert torch.equal(Z1, Z2) and torch.equal(y1, y2)


def test_determinism_under_seed():
    a = F.features("breast_cancer-rff", "train", seed=5, cache=False)
    b = F.features("breast_cancer-rff", "train", seed=5, cache=False)
    c = F.features("breast_cancer-rff", "train", seed=6, cache=False)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_unknown_dataset_and_split_raise_naming_them():
    with pytest.raises(ValueError, match="no-such-set"):
        F.features("no-such-set", "train")
    with pytest.raises(ValueError, match="holdout"):
        F.features("wine", "holdout")
    with pytest.raises(ValueError, match="no raw images"):
        F.image_splits("wine")


def test_register_errors():
    with pytest.raises(ValueError, match="already registered"):
        F.register_features("digits", lambda s: {})
    with pytest.raises(TypeError):
        F.register_features("_bad", 3)
    F.register_features("_bad_shapes", lambda s: {"train": (np.zeros(3), np.zeros(3))}, overwrite=True)
    try:
        with pytest.raises(ValueError, match="bad shapes"):
            F.features("_bad_shapes", "train", cache=False)
    finally:
        F._REGISTRY.pop("_bad_shapes", None)
    assert "mnist-cnn" in F.available()


@pytest.mark.parametrize("name,n_train,k", [("mnist-cnn", 900, 10), ("mnist-cnn-transfer", 450, 5)])
def test_mnist_cnn_features(one_thread, name, n_train, k):
    """The CNN trains once (~3-5 s on one core) on the "pretrain" digits, disjoint from the feature splits."""
    Z, y = F.features(name, "train", seed=0)
    assert Z.shape == (n_train, 64) and Z.dtype == torch.float64 and y.dtype == torch.int64
    assert set(y.tolist()) == set(range(k))
    sp = F.image_splits(name, seed=0)
    assert set(sp["pretrain"][1].tolist()) == set(range(k if k == 10 else 5))
    pre = {x.tobytes() for x in sp["pretrain"][0]}
    assert not any(x.tobytes() in pre for x in sp["test"][0])
    assert torch.allclose(F.image_features(name, sp["train"][0], seed=0), Z)
    Zt, yt = F.features(name, "test", seed=0)
    ones = lambda A: torch.cat([A, torch.ones(len(A), 1, dtype=A.dtype)], 1)  # noqa: E731
    W = torch.linalg.lstsq(ones(Z), torch.nn.functional.one_hot(y).double()).solution
    err = ((ones(Zt) @ W).argmax(1) != yt).double().mean()
    assert err < 0.25
