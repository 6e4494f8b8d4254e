"""thesis.gan metrics on hand-made sequences, translations, salt-and-pepper noise and the Fréchet distance."""
import numpy as np
import pytest
import torch

from thesis.data import shift_images, translation_sequence
from thesis.gan.frechet import frechet_distance, gaussian_stats
from thesis.gan.metrics import (noise_robustness, normalized_total_variation, salt_and_pepper, total_variation,
                                translation_curves, zero_crossings)


def test_total_variation_and_zero_crossings_known_sequences():
    seqs = np.array([
        [0.0, 1.0, 2.0, 3.0],     # monotone: TV 3, range 3, no crossing
        [1.0, -1.0, 1.0, -1.0],   # TV 6, range 2, 3 crossings
        [2.0, 2.0, 2.0, 2.0],     # constant
        [1.0, 0.0, -1.0, 0.0],    # exact zeros skipped: one crossing (+ to -); TV 3, range 2
    ])
    np.testing.assert_allclose(total_variation(seqs), [3, 6, 0, 3])
    np.testing.assert_allclose(normalized_total_variation(seqs), [1.0, 3.0, 0.0, 1.5])
    np.testing.assert_array_equal(zero_crossings(seqs), [0, 3, 0, 1])
    assert zero_crossings([-3.0, 0.0, 0.0, 2.0, 5.0, -1.0])[0] == 2


def test_metrics_bad_input():
    with pytest.raises(ValueError, match="values"):
        total_variation([1.0])
    with pytest.raises(ValueError, match="finite"):
        zero_crossings([1.0, np.nan])
    with pytest.raises(ValueError, match="p must"):
        salt_and_pepper(torch.zeros(3), p=1.5)


def test_shift_images_and_sequence():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    down = shift_images(x, 1, "vertical", fill=-1.0)
    assert torch.equal(down[0, 0, 0], torch.full((4,), -1.0))
    assert torch.equal(down[0, 0, 1:], x[0, 0, :3])
    left = shift_images(x, -2, "horizontal", fill=0.0)
    assert torch.equal(left[0, 0, :, :2], x[0, 0, :, 2:])
    assert torch.all(left[0, 0, :, 2:] == 0)
    assert torch.all(shift_images(x, 4, "vertical", fill=7.0) == 7.0)
    seq = translation_sequence(x, range(5), "vertical", fill=0.0)
    assert seq.shape == (5, 1, 1, 4, 4)
    assert torch.equal(seq[0], x) and torch.all(seq[4] == 0)

    rowsums = x[0, 0].sum(1)  # [6, 22, 38, 54]
    for k in range(5):
        assert float(seq[k].sum()) == pytest.approx(float(rowsums[:4 - k].sum()))
    np_seq = translation_sequence(x.numpy(), [0, 2], "horizontal")
    assert isinstance(np_seq, np.ndarray) and np_seq.shape == (2, 1, 1, 4, 4)
    with pytest.raises(ValueError, match="axis"):
        shift_images(x, 1, "diagonal")


def test_translation_curves_of_linear_critic():
    """Critic = sum of pixels: the vertical curve drops by each bottom row's sum, so it is monotone."""
    X = torch.rand(3, 1, 6, 5)
    curves = translation_curves(lambda z: z.sum((1, 2, 3)), X, "vertical", fill=0.0)
    assert curves.shape == (3, 7)
    np.testing.assert_allclose(curves[:, 0], X.sum((1, 2, 3)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(curves[:, -1], 0.0, atol=1e-6)
    np.testing.assert_allclose(normalized_total_variation(curves), 1.0, rtol=1e-6)
    assert translation_curves(lambda z: z.sum((1, 2, 3)), X, "horizontal", fill=0.0).shape == (3, 6)


def test_salt_and_pepper_fraction_and_values():
    x = torch.zeros(4, 3, 32, 32)
    g = torch.Generator().manual_seed(0)
    y = salt_and_pepper(x, 0.15, (-1.0, 1.0), generator=g)
    changed = y != 0
    assert abs(changed.float().mean().item() - 0.15) < 0.01
    assert set(torch.unique(y[changed]).tolist()) == {-1.0, 1.0}
    assert abs((y[changed] == 1).float().mean().item() - 0.5) < 0.05
    r = noise_robustness(lambda z: z.mean((1, 2, 3)), torch.rand(50, 1, 8, 8) * 2 - 1, p=0.0)
    assert r["shift"] == 0.0 and r["mean_abs_change"] == 0.0


def test_frechet_distance_gaussians():
    mu, s = np.array([1.0, 2.0]), np.diag([4.0, 1.0])
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    # diagonal covariances: ||Δμ||² + Σ (σ1 − σ2)²
    d = frechet_distance(mu, s, np.array([0.0, 2.0]), np.diag([1.0, 9.0]))
    assert d == pytest.approx(1.0 + (2 - 1) ** 2 + (1 - 3) ** 2)
    m, c = gaussian_stats(np.array([[0.0, 0.0], [2.0, 2.0]]))
    np.testing.assert_allclose(m, [1.0, 1.0])
    np.testing.assert_allclose(c, [[2.0, 2.0], [2.0, 2.0]])


def test_translation_table_offset():
    from thesis.gan.metrics import translation_table

    X = torch.rand(2, 1, 4, 4)
    crit = lambda z: z.sum((1, 2, 3))  # noqa: E731 — monotone decreasing to 0 along a downward shift
    raw = translation_table(crit, X, fill=0.0)
    assert raw["vertical_zero_crossings"] == 0.0 and raw["vertical_ntv"] == pytest.approx(1.0)
    # an offset strictly inside every curve's range gives exactly one crossing each
    lo = min(float(v) for v in X.sum((1, 2, 3)))
    assert translation_table(crit, X, fill=0.0, offset=lo / 2)["vertical_zero_crossings"] == 1.0
