"""The inference graph: uint8 photo -> [-1, 1] -> generator -> output guided filter ->
cel shading (generators trained with it) -> uint8.

Every runtime and every export computes exactly this (`cartoonize_batch`, or
`cartoonize_any_size` for images whose sides are not multiples of 8).
"""

import tensorflow as tf

from cartoonize_tf.contract.limits import SIZE_MULTIPLE
from cartoonize_tf.layers.guided_filter import guided_filter

# The output guided filter of the authors' inference code.
OUTPUT_FILTER_RADIUS = 1
OUTPUT_FILTER_EPS = 5e-3
OUTPUT_FILTER_SCOPE = "output_filter"


def cartoon_from_raw(generator, photos, raw, filter_radius=OUTPUT_FILTER_RADIUS,
                     filter_eps=OUTPUT_FILTER_EPS, stage_settings=None):
    """The cartoon in [-1, 1] from RGB photos in [-1, 1] and the generator's raw RGB output:
    the output guided filter, then the generator's cel-shading stage if it has one (with
    `stage_settings`, scalar tensors in place of some of its settings: `CelShading.call`).

    Inference and the training that goes through the stage both use this.
    """
    cartoon = guided_filter(photos, raw, filter_radius, filter_eps)
    if generator.cel_shading_layer is not None:
        cartoon = generator.cel_shading_layer(cartoon, settings=stage_settings,
                                               photo=photos)
    return cartoon


def cartoonize_batch(generator, images, filter_radius=OUTPUT_FILTER_RADIUS,
                     filter_eps=OUTPUT_FILTER_EPS, stage_settings=None):
    """uint8 RGB `[N, H, W, 3]` (H, W multiples of 4) -> uint8 RGB cartoons of the same shape.

    Scales to [-1, 1], reorders channels to what the generator's weights
    expect, runs it, applies the output guided filter with the photo as guide
    (the authors' radius 1 and eps 5e-3 unless given: a larger radius or eps
    smooths more) and the generator's cel shading if it has one (`stage_settings`:
    `cartoon_from_raw`), and converts back by truncation, as the authors' code does.
    """
    x = tf.cast(images, tf.float32) / 127.5 - 1.0
    bgr = generator.channel_order == "bgr"
    y = tf.cast(generator(tf.reverse(x, axis=[-1]) if bgr else x), tf.float32)
    # The scope names these ops, so the int8 TFLite export can keep them in float.
    with tf.name_scope(OUTPUT_FILTER_SCOPE):
        y = cartoon_from_raw(generator, x, tf.reverse(y, axis=[-1]) if bgr else y,
                             filter_radius, filter_eps, stage_settings)
        return tf.cast(tf.clip_by_value((y + 1.0) * 127.5, 0.0, 255.0), tf.uint8)


def symmetric_indices(size, padded_size):
    """Source index of each padded position when mirroring (edge pixel repeated) past `size`.

    Works for any amount of padding, even more than the image is long, where
    `tf.pad(mode="SYMMETRIC")` refuses.
    """
    positions = tf.range(padded_size) % (2 * size)
    return tf.where(positions < size, positions, 2 * size - 1 - positions)


def cartoonize_any_size(generator, images, multiple=SIZE_MULTIPLE, **options):
    """`cartoonize_batch` for uint8 RGB images of any height and width.

    Pads the bottom and right edges by mirroring to multiples of `multiple`,
    runs, and crops back, so the output has the input's exact shape.
    `options` (`filter_radius`, `filter_eps`, `stage_settings`) go to `cartoonize_batch`.
    """
    shape = tf.shape(images)
    height, width = shape[1], shape[2]
    padded_height = (height + multiple - 1) // multiple * multiple
    padded_width = (width + multiple - 1) // multiple * multiple
    padded = tf.gather(images, symmetric_indices(height, padded_height), axis=1)
    padded = tf.gather(padded, symmetric_indices(width, padded_width), axis=2)
    return cartoonize_batch(generator, padded, **options)[:, :height, :width]
