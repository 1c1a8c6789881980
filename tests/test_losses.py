import numpy as np
import tensorflow as tf

from cartoonize_tf.training import losses


def test_lsgan_losses_by_hand():
    real = tf.constant([[1.5], [0.5]])
    fake = tf.constant([[0.2], [-0.4]])
    # D: 0.5 * (mean((1.5-1)^2, (0.5-1)^2) + mean(0.2^2, 0.4^2)) = 0.5 * (0.25 + 0.1)
    np.testing.assert_allclose(losses.lsgan_discriminator_loss(real, fake), 0.175, rtol=1e-6)
    # G: mean((0.2-1)^2, (-0.4-1)^2) = (0.64 + 1.96) / 2
    np.testing.assert_allclose(losses.lsgan_generator_loss(fake), 1.3, rtol=1e-6)


def test_total_variation_by_hand():
    image = np.zeros((1, 2, 3, 3), np.float32)
    image[0, 1, :, 0] = 1.0  # the second row is 1 in channel 0
    # dh: 3 of 9 differences are 1 -> mean 1/3; dw: all 0; divided by 3 * H * W = 18
    np.testing.assert_allclose(losses.total_variation_loss(tf.constant(image)), (1 / 3) / 18,
                               rtol=1e-6)


def test_feature_l1_by_hand():
    a = np.zeros((2, 2, 2, 4), np.float32)
    b = np.full((2, 2, 2, 4), 0.5, np.float32)
    # mean |a - b| = 0.5, divided by h * w * c = 16
    np.testing.assert_allclose(losses.feature_l1_loss(tf.constant(a), tf.constant(b)), 0.5 / 16,
                               rtol=1e-6)
