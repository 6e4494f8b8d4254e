"""Chapter 1, Section 1.5.5: Wasserstein-Tikhonov regularized classifiers under attacks and translations.

Modules: :mod:`.models` (softplus CNN), :mod:`.regularizers` (none / Euclidean / Wasserstein gradient
penalties of Appendix 1.A.3 and eq. 1.21), :mod:`.training`, :mod:`.attacks` (FGSM, I-FGSM),
:mod:`.metrics` (robust error, translation flips), CLI in ``__main__``.
"""
from .attacks import fgsm, ifgsm
from .models import SoftplusCNN
from .regularizers import REGULARIZERS, regularized_loss

__all__ = ["REGULARIZERS", "SoftplusCNN", "fgsm", "ifgsm", "regularized_loss"]
