"""Bad input to ridge_loo raises a TypeError/ValueError that names the argument."""
import pytest
import torch

import wgm_kernels as W
from wgm_kernels.ridge.reference import random_problem


def _bad_weight(kind):
    def make(Z, Y, a):
        a = a.clone()
        if kind == "neg":
            a[2] = -0.5
        elif kind == "nan":
            a[1] = float("nan")
        elif kind == "zero":
            a.zero_()
        return Z, Y, 1.0, a
    return make


@pytest.mark.parametrize(
    "make, exc, pattern",
    [
        (lambda Z, Y, a: (Z[:-1], Y, 1.0, a), ValueError, "Y has 10 samples .* Z has n=9"),
        (lambda Z, Y, a: (Z, Y, 1.0, a[:-1]), ValueError, r"weight must have shape \(\.\.\., n\) with n=10"),
        (lambda Z, Y, a: (Z, Y[:, 0], 1.0, a), ValueError, r"Y must have shape \(\.\.\., n, k\)"),
        (lambda Z, Y, a: (Z[0], Y, 1.0, a), ValueError, r"Z must have shape \(\.\.\., n, m\)"),
        (lambda Z, Y, a: (Z, Y, 0.0, a), ValueError, "lam must be finite and > 0"),
        (lambda Z, Y, a: (Z, Y, -1.0, a), ValueError, "lam must be finite and > 0"),
        (lambda Z, Y, a: (Z, Y, torch.tensor([1.0, -2.0]), a), ValueError, "lam must be finite and > 0"),
        (lambda Z, Y, a: (Z, Y, torch.ones(2, 2), a), ValueError, "lam must be a float or a 1-D tensor"),
        (lambda Z, Y, a: (Z, Y, "1", a), TypeError, "lam must be a float"),
        (_bad_weight("neg"), ValueError, "weight has 1 negative entries"),
        (_bad_weight("nan"), ValueError, "weight has 1 NaN/Inf entries"),
        (_bad_weight("zero"), ValueError, "weight is zero for every sample"),
        (lambda Z, Y, a: (Z.long(), Y, 1.0, a), TypeError, "Z must be a floating-point tensor"),
        (lambda Z, Y, a: (Z, Y.int(), 1.0, a), TypeError, "Y must be a floating-point tensor"),
        (lambda Z, Y, a: (Z, Y.float(), 1.0, a), TypeError, "Z and Y must have the same dtype"),
        (lambda Z, Y, a: (Z, Y, 1.0, a.float()), TypeError, "weight must have Z's dtype"),
        (lambda Z, Y, a: (Z.numpy(), Y, 1.0, a), TypeError, "Z must be a torch.Tensor"),
        (lambda Z, Y, a: (Z.index_fill(0, torch.tensor([0]), float("inf")), Y, 1.0, a), ValueError,
         "Z has 4 NaN/Inf"),
        (lambda Z, Y, a: (torch.zeros(2, 10, 4, dtype=Z.dtype), Y, 1.0, torch.ones(3, 10, dtype=Z.dtype)),
         ValueError, "do not broadcast"),
    ],
)
def test_bad_input(make, exc, pattern):
    Z, Y, lam, a = make(*random_problem(10, 4))
    with pytest.raises(exc, match=pattern):
        W.ridge_loo(Z, Y, lam, a)


def test_bad_solver_is_named():
    Z, Y, a = random_problem(10, 4)
    with pytest.raises(ValueError, match="solver must be one of"):
        W.ridge_loo(Z, Y, 1.0, a, solver="svd")


def test_zero_weights_in_one_batch_entry_raise():
    Z, Y, a = random_problem(10, 4)
    with pytest.raises(ValueError, match="weight is zero for every sample"):
        W.ridge_loo(Z, Y, 1.0, torch.stack([a, torch.zeros_like(a)]))


def test_huge_features_fail_cholesky_with_a_clear_error():
    Z, Y, a = random_problem(10, 4)
    Z[:, 0] = 1e200  # the Gram matrix overflows to inf: not positive definite in floating point
    with pytest.raises(ValueError, match="not positive definite"):
        W.ridge_loo(Z, Y, 1.0, a, solver="primal")


@pytest.mark.parametrize("solver, lam", [("dual", 1.0), ("primal", torch.tensor([1.0, 2.0]))])
def test_overflowing_gram_or_kernel_raises(solver, lam):
    Z, Y, a = random_problem(10, 4)
    Z[:, 0] = 1e200
    with pytest.raises(ValueError, match="not positive definite"):
        W.ridge_loo(Z, Y, lam, a, solver=solver)
