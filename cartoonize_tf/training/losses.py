"""Loss functions of White-box Cartoonization (LSGAN, total variation, VGG feature and pixel L1).

Written in `keras.ops`, so the TensorFlow and the JAX training steps share them.
"""

from keras import ops


def lsgan_discriminator_loss(real_logits, fake_logits):
    """`0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))`."""
    return 0.5 * (ops.mean(ops.square(real_logits - 1.0)) + ops.mean(ops.square(fake_logits)))


def lsgan_generator_loss(fake_logits):
    """`mean((D(fake) - 1)^2)`."""
    return ops.mean(ops.square(fake_logits - 1.0))


def total_variation_loss(images):
    """`(mean(dh^2) + mean(dw^2)) / (3 * H * W)`, the authors' normalisation."""
    shape = ops.shape(images)
    pixels = ops.cast(3 * shape[1] * shape[2], images.dtype)
    tv_h = ops.mean(ops.square(images[:, 1:] - images[:, :-1]))
    tv_w = ops.mean(ops.square(images[:, :, 1:] - images[:, :, :-1]))
    return (tv_h + tv_w) / pixels


def pixel_l1_loss(images_a, images_b):
    """Mean absolute difference of two pictures (the content terms when no VGG is used)."""
    return ops.mean(ops.abs(images_a - images_b))


def feature_l1_loss(features_a, features_b):
    """Mean absolute difference of feature maps, divided by their h * w * c (the authors' scale)."""
    shape = ops.shape(features_a)
    size = ops.cast(shape[1] * shape[2] * shape[3], features_a.dtype)
    return ops.mean(ops.abs(features_a - features_b)) / size


def edge_l1(output, target):
    """Mean L1 distance between the pixel differences (along x and along y) of two images."""
    def differences(image):
        return image[:, 1:, :-1] - image[:, :-1, :-1], image[:, :-1, 1:] - image[:, :-1, :-1]
    pairs = zip(differences(output), differences(target), strict=True)
    return sum(ops.mean(ops.abs(a - b)) for a, b in pairs)


def reconstruction_loss(output, targets, edge_weight=0.0):
    """The pretraining loss: L1 to the targets, plus `edge_weight` times `edge_l1`."""
    loss = pixel_l1_loss(output, targets)
    if edge_weight:
        loss += edge_weight * edge_l1(output, targets)
    return loss
