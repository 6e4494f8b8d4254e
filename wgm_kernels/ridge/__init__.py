"""Weighted ridge regression with closed-form leave-one-out predictions and the DIVA dataset derivative
(Dukler 2021, Chapter 2: eqs. 2.3-2.12, Propositions 3-6, Appendix 2.A.3).

    ridge_loo(Z, Y, lam, weight=None, *, solver="auto") -> RidgeLOO(coef, fitted, loo, leverage)
    dataset_derivative(Z, Y, lam, weight=None, *, loss="ce", val=None, misclassified_only=False)
"""
from .derivative import dataset_derivative
from .loo import RidgeLOO, ridge_loo

__all__ = ["RidgeLOO", "dataset_derivative", "ridge_loo"]
