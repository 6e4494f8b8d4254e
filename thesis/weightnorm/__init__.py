"""Weight Normalization dynamics of thesis Chapter 3 (Dukler 2021; Dukler, Gu, Montufar 2020).

The WN two-layer ReLU network (3.2) with initialisation (3.6), its neural tangent kernels V (3.10),
G (3.11), H (3.13), Lambda = V/beta^2 + G (3.12), the infinite-width kernels (3.15)-(3.16), gradient
descent on (3.7), and the experiments of ``python -m thesis.weightnorm`` (convergence, kernel_drift,
beta_star, norm_growth).
"""
from .infinite import closed_form_grams, infinite_width_grams, lambda_max, lambda_min
from .kernels import relu_ntk, wn_gram_matrices
from .model import ReLUTwoLayer, TorchWNTwin, WNTwoLayer, square_loss
from .training import TrainHistory, gd_step, linear_rate, train_gd

__all__ = ["WNTwoLayer", "ReLUTwoLayer", "TorchWNTwin", "square_loss", "wn_gram_matrices", "relu_ntk",
           "infinite_width_grams", "closed_form_grams", "lambda_min", "lambda_max", "gd_step",
           "train_gd", "TrainHistory", "linear_rate"]
