"""dataset_derivative (Prop. 4, eq. 2.10; LOO loss of Section 2.3.3) against autograd through the naive
closed form, against autograd through ridge_loo, and its use: mislabeled samples get positive entries."""
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.ridge.epilogue import loss_and_grad
from wgm_kernels.ridge.reference import naive_ridge_loo, random_problem

LOSSES = [("mse", False), ("ce", False), ("ce", True)]


def _naive_loo_grad(Z, Y, lam, a, loss, mis):
    w = a.clone().requires_grad_()
    F = naive_ridge_loo(Z, Y, lam, w)[2]
    return torch.autograd.grad(loss_and_grad(F, Y, loss, mis)[0].sum(), w)[0]


@pytest.mark.parametrize("n, m", [(20, 6), (6, 20)])
@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("loss, mis", LOSSES)
def test_loo_derivative_matches_autograd_of_naive(n, m, solver, loss, mis):
    Z, Y, a = random_problem(n, m, k=3, seed=n, onehot=True)
    got = W.dataset_derivative(Z, Y, 0.5, a, loss=loss, misclassified_only=mis, solver=solver)
    ref = _naive_loo_grad(Z, Y, 0.5, a, loss, mis)
    assert got.shape == (n,) and float(ref.abs().max()) > 1e-3
    torch.testing.assert_close(got, ref, rtol=1e-9, atol=1e-10 * float(ref.abs().max()))


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("loss, mis", LOSSES)
def test_validation_derivative_matches_autograd_of_naive(solver, loss, mis):
    Z, Y, a = random_problem(16, 9, k=3, seed=1, onehot=True)
    Zv, Yv, _ = random_problem(11, 9, k=3, seed=2, onehot=True)
    w = a.clone().requires_grad_()
    coef = naive_ridge_loo(Z, Y, 0.8, w)[0]
    ref = torch.autograd.grad(loss_and_grad(Zv @ coef, Yv, loss, mis)[0].sum(), w)[0]
    got = W.dataset_derivative(Z, Y, 0.8, a, loss=loss, val=(Zv, Yv), misclassified_only=mis, solver=solver)
    torch.testing.assert_close(got, ref, rtol=1e-9, atol=1e-10 * float(ref.abs().max()))


def test_grid_and_batch_match_autograd_through_ridge_loo():
    Z, Y, a = random_problem(12, 5, k=3, seed=3, onehot=True)
    Zb = torch.stack([Z, 0.5 * Z])
    lams = torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64)
    got = W.dataset_derivative(Zb, Y, lams, a, loss="ce")
    assert got.shape == (2, 3, 12)
    for j in range(2):
        for i, lam in enumerate(lams.tolist()):
            w = a.clone().requires_grad_()
            F = W.ridge_loo(Zb[j], Y, lam, w).loo
            ref = torch.autograd.grad(loss_and_grad(F, Y, "ce", False)[0].sum(), w)[0]
            torch.testing.assert_close(got[j, i], ref, rtol=1e-9, atol=1e-12)


def test_float32_derivative_close_to_float64():
    Z, Y, a = random_problem(40, 8, k=3, seed=4, onehot=True)
    ref = W.dataset_derivative(Z, Y, 1.0, a)
    got = W.dataset_derivative(Z.float(), Y.float(), 1.0, a.float())
    assert got.dtype == torch.float32
    torch.testing.assert_close(got.double(), ref, rtol=1e-3, atol=1e-4 * float(ref.abs().max()))


def test_mislabeled_samples_have_positive_loo_derivative():
    """Detrimental-sample detection (eq. 2.14 with eps = 0) on separable blobs with 10% flipped labels."""
    g = torch.Generator().manual_seed(0)
    n, k = 200, 3
    y = torch.randint(0, k, (n,), generator=g)
    centers = 3.0 * torch.randn(k, 6, generator=g, dtype=torch.float64)
    Z = centers[y] + torch.randn(n, 6, generator=g, dtype=torch.float64)
    flipped = torch.randperm(n, generator=g)[:20]
    y_noisy = y.clone()
    y_noisy[flipped] = (y[flipped] + 1) % k
    Y = torch.nn.functional.one_hot(y_noisy, k).double()
    grad = W.dataset_derivative(Z, Y, 1.0, loss="ce")
    is_flipped = torch.zeros(n, dtype=torch.bool)
    is_flipped[flipped] = True
    assert float((grad[is_flipped] > 0).float().mean()) >= 0.9
    assert float((grad[~is_flipped] > 0).float().mean()) <= 0.2


@pytest.mark.parametrize(
    "kwargs, exc, pattern",
    [
        ({"loss": "hinge"}, ValueError, "loss must be one of"),
        ({"loss": "mse", "misclassified_only": True}, ValueError, "misclassified_only"),
        ({"val": torch.zeros(3, 4)}, TypeError, "val must be a pair"),
        ({"val": (torch.zeros(3, 5, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64))},
         ValueError, r"Z_val\) must have shape"),
        ({"val": (torch.zeros(3, 4, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64))},
         ValueError, r"Y_val\) must have shape"),
        ({"val": (torch.zeros(3, 4), torch.zeros(3, 3))}, TypeError, "must have dtype torch.float64"),
    ],
)
def test_bad_derivative_arguments(kwargs, exc, pattern):
    Z, Y, a = random_problem(10, 4)
    with pytest.raises(exc, match=pattern):
        W.dataset_derivative(Z, Y, 1.0, a, **kwargs)
