"""The README example: mislabeled digits detected by the sign of the LOO dataset derivative."""
import pytest
import torch

import wgm_kernels as W

datasets = pytest.importorskip("sklearn.datasets")


def test_readme_digits_example_numbers():
    X, y = datasets.load_digits(return_X_y=True)
    Z = torch.tensor(X / 16.0)
    g = torch.Generator().manual_seed(0)
    bad = torch.randperm(len(y), generator=g)[:180]
    labels = torch.tensor(y)
    labels[bad] = (labels[bad] + torch.randint(1, 10, (180,), generator=g)) % 10
    Y = torch.nn.functional.one_hot(labels, 10).double()
    grad = W.dataset_derivative(Z, Y, 1.0, loss="ce")
    flagged = grad > 0
    hits = torch.isin(torch.arange(len(y)), bad)
    # The README prints: flagged 529; mislabeled among them 174/180; mislabeled among the 180 largest 154
    # (small slack: samples with a derivative near 0 may flip sign under another BLAS)
    assert abs(int(flagged.sum()) - 529) <= 5
    assert int((flagged & hits).sum()) >= 172
    assert int(hits[grad.topk(180).indices].sum()) >= 150
