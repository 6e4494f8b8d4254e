"""thesis.data additions for Chapter 1 (padding, colourized C = 3 digits) and 3-channel tiny runs."""
import numpy as np
import pytest
import torch

from thesis.data import colourize, mnist_digits, mnist_images, pad_images
from thesis.gan.data import gan_data


def test_pad_and_colourize():
    X = np.arange(2 * 1 * 2 * 3, dtype=np.float32).reshape(2, 1, 2, 3) / 10
    P = pad_images(X, 4, fill=-1.0)
    assert P.shape == (2, 1, 4, 4)
    np.testing.assert_array_equal(P[:, :, 1:3, 0:3], X)  # top = (4-2)//2 = 1, left = (4-3)//2 = 0
    assert (P == -1).sum() == 2 * (16 - 6)
    with pytest.raises(ValueError, match="size"):
        pad_images(X, 2)
    g = np.zeros((3, 1, 4, 4), dtype=np.float32)
    g[:, :, 1, 1] = 1.0
    C = colourize(g, seed=1)
    assert C.shape == (3, 3, 4, 4) and C.min() >= 0 and C.max() <= 1
    # background pixels share one colour per image, the stroke pixel another
    assert np.allclose(C[:, :, 0, 0], C[:, :, 3, 3]) and not np.allclose(C[:, :, 0, 0], C[:, :, 1, 1])
    np.testing.assert_array_equal(C, colourize(g, seed=1))
    with pytest.raises(ValueError, match="X"):
        colourize(np.zeros((2, 3, 4, 4)))


def test_mnist_images_variants_and_mnist_digits_unchanged():
    X1, y1 = mnist_digits(10, seed=3)
    Xp, yp = mnist_images(10, 3, channels=1, size=32)
    assert Xp.shape == (10, 1, 32, 32) and np.array_equal(y1, yp)
    np.testing.assert_array_equal(Xp[:, :, 2:30, 2:30], X1)
    Xc, _ = mnist_images(10, 3, channels=3, size=32)
    assert Xc.shape == (10, 3, 32, 32) and Xc.dtype == np.float32 and 0 <= Xc.min() and Xc.max() <= 1
    with pytest.raises(ValueError, match="channels"):
        mnist_images(5, channels=2)
    Xtr, ytr, Xte, yte = gan_data(3, 32, n_test=100, seed=0)
    assert Xtr.shape == (4900, 3, 32, 32) and Xte.shape == (100, 3, 32, 32)
    assert float(Xtr.min()) >= -1 and float(Xtr.max()) <= 1
    with pytest.raises(ValueError, match="n_test"):
        gan_data(n_test=0)


def test_three_channel_tiny_runs():
    from thesis.gan.training import GANConfig, train_gan
    from thesis.robust.training import RobustConfig, train_classifier

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        r = train_gan(GANConfig(penalty="wgm", channels=3, dim=4, iters=1, n_critic=1, batch=4, n_test=100),
                      progress=False)
        assert np.isfinite(r["history"]["gp"][0]) and r["history"]["gp"][0] > 0
        c = train_classifier(RobustConfig(reg="wgm", eta2=0.01, channels=3, n_train=32, n_test=16, width=2,
                                          epochs=1, batch=16), progress=False)
        assert np.isfinite(c["history"]["loss"][0]) and c["history"]["reg"][0] > 0
    finally:
        torch.set_num_threads(n)
