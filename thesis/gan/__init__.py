"""Chapter 1, Section 1.4.4: WWGAN (Algorithm 2) vs WGAN-GP on MNIST-derived images.

Modules: :mod:`.models` (DCGAN generator / critic), :mod:`.penalties` (the two gradient penalties),
:mod:`.training` (one training loop for both), :mod:`.metrics` (translation TV / zero crossings,
salt-and-pepper noise, timings), :mod:`.frechet` (classifier-feature Fréchet distance), CLI in ``__main__``.
"""
from .models import Critic, Generator
from .penalties import PENALTIES, gradient_penalty

__all__ = ["Critic", "Generator", "PENALTIES", "gradient_penalty"]
