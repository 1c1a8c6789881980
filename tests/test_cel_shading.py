"""The CelShading layer: flat tones, outlines on long edges, gradients that survive, exports."""

import numpy as np
import pytest
import tensorflow as tf
from helpers import FLAT_TONES, SHIPPED_STAGE, run_layer_test

from cartoonize_tf.layers.cel_shading import CelShading, luminance, sharpen_edges, soft_quantize
from cartoonize_tf.models.generator import UNetGenerator
from cartoonize_tf.models.pipeline import cartoonize_batch


def ramp(height, width, low, high):
    """A grey RGB image in [-1, 1] rising from `low` to `high` across its width."""
    row = np.linspace(low, high, width, dtype=np.float32)
    return np.broadcast_to(row[None, None, :, None], (1, height, width, 3)).copy()


def grey_levels(image):
    return luminance(tf.constant(image)).numpy()[0, ..., 0]


def test_soft_quantize_is_a_continuous_staircase():
    level = tf.constant(np.linspace(0, 100, 2001, dtype=np.float32))
    steps = soft_quantize(level, 12.5, 0.9).numpy()
    assert np.max(np.abs(np.diff(steps))) < 0.6  # no jump anywhere
    middles = soft_quantize(tf.constant([6.25, 18.75, 31.25]), 12.5, 0.9).numpy()
    np.testing.assert_allclose(middles, [6.25, 18.75, 31.25], atol=1e-3)
    # Inside a band the curve is flat: 4 units of input move the output by under 0.1.
    band = soft_quantize(tf.constant([16.75, 20.75]), 12.5, 0.9).numpy()
    assert abs(band[1] - band[0]) < 0.1


def test_steep_shading_becomes_flat_tones():
    shading = ramp(32, 96, -0.6, 0.6)  # 1.25 luminance units per pixel
    levels = grey_levels(CelShading(line_threshold=1e3)(shading).numpy())[16]
    inner = levels[8:-8]
    flat_steps = np.abs(np.diff(inner)) < 0.2  # the ramp itself rises 1.25 a pixel
    assert flat_steps.mean() > 0.5, "most of the ramp should lie on flat tones"
    assert len(np.unique(np.round(inner[1:][flat_steps]))) <= 8


def test_gentle_gradients_keep_their_slope():
    sky = ramp(32, 96, -0.1, 0.1)  # 0.1 luminance units per pixel: a clear sky
    before, after = grey_levels(sky)[16], grey_levels(CelShading()(sky).numpy())[16]
    np.testing.assert_allclose(after, before, atol=0.05)


def test_low_contrast_shading_goes_flat_and_strong_edges_stay():
    y, x = np.mgrid[0:64, 0:96].astype(np.float32)
    # Shading smaller than the window: soft bumps of 6 luminance units, beside a 40-unit edge.
    bump = 0.12 * np.exp(-((x % 16 - 8) ** 2 + (y % 16 - 8) ** 2) / (2 * 3.0 ** 2))
    image = np.where(x < 64, -0.2 + bump, 0.6)[None, ..., None].repeat(3, axis=-1)
    stage = CelShading(**{**FLAT_TONES, "chroma_radius": 0}, line_threshold=1e3)
    before, after = grey_levels(image), grey_levels(stage(image).numpy())
    skin = (slice(8, 56), slice(8, 52))
    assert after[skin].std() < 0.5 * before[skin].std(), "the shading should flatten"
    np.testing.assert_allclose(after[:, 72:], before[:, 72:], atol=0.5)  # the bright side stays
    assert after[32, 66] - after[32, 61] > 35, "the edge stays a step"


def test_sharpen_edges_makes_steps_without_halos():
    blurred = np.clip((np.arange(48, dtype=np.float32) - 24) / 6, -1, 1) * 20 + 50
    level = tf.constant(np.broadcast_to(blurred[None, None, :, None], (1, 8, 48, 1)).copy())
    sharp = sharpen_edges(level, 10.0, 3).numpy()[0, 4, :, 0]
    assert np.abs(np.diff(sharp)).max() > 2 * np.abs(np.diff(blurred)).max()
    assert sharp.min() >= blurred.min() - 1e-4 and sharp.max() <= blurred.max() + 1e-4


def test_without_bands_flattening_or_lines_the_tones_are_the_input(rng):
    image = rng.uniform(-1, 1, (1, 20, 24, 3)).astype(np.float32)
    untouched = CelShading(levels=0, line_threshold=1e3, chroma_radius=0)(image).numpy()
    np.testing.assert_allclose(untouched, image, atol=1e-5)


def test_a_long_edge_gets_a_dark_line_and_texture_does_not(rng):
    edge = np.full((1, 48, 48, 3), 0.6, np.float32)
    edge[:, :, :24] = -0.2
    lined = grey_levels(CelShading()(edge).numpy())
    assert lined[24, 18:24].min() < grey_levels(edge)[24, 20] - 20  # a line beside the edge
    assert abs(lined[24, 5] - grey_levels(edge)[24, 5]) < 1  # flat areas untouched

    texture = np.clip(0.2 + rng.normal(0, 0.15, (1, 48, 48, 1)), -1, 1).astype(np.float32)
    texture = np.repeat(texture, 3, axis=-1)
    darkened = grey_levels(texture) - grey_levels(
        CelShading(levels=1000, gentle_slope=1e3, chroma_radius=0)(texture).numpy())
    plain = grey_levels(texture) - grey_levels(
        CelShading(levels=1000, gentle_slope=1e3, chroma_radius=0, texture_weight=0)(
            texture).numpy())
    assert darkened.mean() < 0.5 * plain.mean(), "texture should raise the line threshold"


def test_chroma_noise_is_flattened_inside_a_region(rng):
    patch = np.full((1, 32, 32, 3), [0.4, 0.1, -0.2], np.float32)
    noisy = patch + rng.normal(0, 0.03, patch.shape).astype(np.float32)
    chroma = noisy - noisy.mean(axis=-1, keepdims=True)
    out = CelShading(line_threshold=1e3, gentle_slope=1e3)(noisy).numpy()
    out_chroma = out - out.mean(axis=-1, keepdims=True)
    assert out_chroma[:, 4:-4, 4:-4].std(axis=(1, 2)).max() < 0.5 * chroma.std(axis=(1, 2)).min()


@pytest.mark.parametrize("settings", [{}, SHIPPED_STAGE], ids=["bands", "shipped"])
def test_gradients_reach_the_input(rng, settings):
    x = tf.Variable(rng.uniform(-0.8, 0.8, (1, 24, 24, 3)).astype(np.float32))
    photo = tf.constant(rng.uniform(-0.8, 0.8, (1, 24, 24, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(CelShading(**settings)(x, photo=photo) ** 2)
    gradient = tape.gradient(loss, x).numpy()
    assert np.all(np.isfinite(gradient)) and np.mean(np.abs(gradient) > 1e-4) > 0.5


@pytest.mark.parametrize("settings", [{}, FLAT_TONES, {**FLAT_TONES, "line_rule": "contour"},
                                      SHIPPED_STAGE],
                         ids=["bands", "flat tones", "contours", "shipped (ink)"])
def test_fixed_size_graph_holds_no_image_sized_constant(settings):
    layer = CelShading(**settings)
    spec = tf.TensorSpec([1, 96, 128, 3], tf.float32)
    graph = tf.function(lambda x: layer(x, photo=x)).get_concrete_function(spec).graph
    sizes = [tf.make_ndarray(op.get_attr("value")).size
             for op in graph.get_operations() if op.type == "Const"]
    assert max(sizes) < 96 * 128


def test_keras_layer_conventions(tmp_path, rng):
    x = rng.uniform(-1, 1, (2, 12, 10, 3)).astype(np.float32)
    run_layer_test(CelShading, {"levels": 6, "texture_weight": 1.0, "chroma_radius": 2}, x,
                   (2, 12, 10, 3), tmp_path)
    run_layer_test(CelShading, FLAT_TONES, x, (2, 12, 10, 3), tmp_path)
    run_layer_test(CelShading, {**FLAT_TONES, "line_rule": "contour", "contour_step": 4.0,
                                "contour_busy": 0.3}, x, (2, 12, 10, 3), tmp_path)
    run_layer_test(CelShading, {**FLAT_TONES, "thin_radius": 3, "thin_depth": 8.0}, x,
                   (2, 12, 10, 3), tmp_path)


@pytest.mark.parametrize("kwargs", [{"levels": 1}, {"levels": 2.5}, {"step_sharpness": 0},
                                    {"gentle_slope": -1}, {"texture_weight": -1},
                                    {"chroma_radius": -1}, {"chroma_eps": 0},
                                    {"levels": -1}, {"flat_radius": -1}, {"flat_radius": 1.5},
                                    {"flat_eps": -1}, {"edge_sharpening": -1},
                                    {"edge_radius": 0}, {"line_strength": -1},
                                    {"line_width": 0}, {"saturation": -0.5},
                                    {"photo_radius": -1}, {"photo_radius": 2.5},
                                    {"photo_chroma": -0.1}, {"lift": 0},
                                    {"line_rule": "pencil"}, {"contour_step": 0},
                                    {"contour_busy": 0}, {"contour_busy": 1.5},
                                    {"ink_radius": 0}, {"ink_radius": 1.5}, {"ink_depth": 0},
                                    {"ink_coherence": -0.1}, {"ink_coherence": 1.0},
                                    {"ink_busy": 0}, {"ink_busy": 2},
                                    {"thin_radius": -1}, {"thin_radius": 2.5},
                                    {"thin_depth": 0}])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        CelShading(**kwargs)


def test_generator_carries_the_stage_through_a_keras_file(tmp_path, rng):
    import keras

    keras.utils.set_random_seed(0)
    generator = UNetGenerator(channels=8, num_blocks=1, cel_shading={"levels": 6})
    photos = rng.integers(0, 256, (1, 32, 40, 3), dtype=np.uint8)
    generator.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")
    assert loaded.cel_shading == {"levels": 6} and loaded.cel_shading_layer.levels == 6
    np.testing.assert_array_equal(cartoonize_batch(loaded, photos),
                                  cartoonize_batch(generator, photos))
    plain = UNetGenerator.from_config({**generator.get_config(), "cel_shading": None})
    plain.set_weights(generator.get_weights())
    assert np.any(cartoonize_batch(plain, photos) != cartoonize_batch(generator, photos))


def test_the_stage_can_be_turned_off(tmp_path, rng):
    import keras

    from cartoonize_tf.cli.main import main
    from cartoonize_tf.inference.cartoonizer import Cartoonizer

    keras.utils.set_random_seed(1)
    generator = UNetGenerator(channels=8, num_blocks=1, cel_shading={})
    photo = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    shaded = Cartoonizer.load(generator, size_policy="full", backend="tf").cartoonize(photo)
    plain = Cartoonizer.load(generator, size_policy="full", backend="tf",
                        cel_shading=False).cartoonize(photo)
    assert np.any(shaded != plain)
    # The copy without the stage has the same weights: the same pictures as a plain generator.
    stripped = UNetGenerator.from_config({**generator.get_config(), "cel_shading": None})
    stripped.set_weights(generator.get_weights())
    np.testing.assert_array_equal(plain, cartoonize_batch(stripped, photo[None])[0])
    # And on the command line.
    generator.save(tmp_path / "g.keras")
    from PIL import Image

    Image.fromarray(photo).save(tmp_path / "p.png")
    for flag, folder in (([], "on"), (["--no-cel-shading"], "off")):
        assert main(["run", "--input", str(tmp_path / "p.png"), "--model", str(tmp_path / "g.keras"),
                     "--resize", "full", "--backend", "tf",  # bit for bit: the reference
                     "--output-dir", str(tmp_path / folder), *flag]) == 0
    on = np.asarray(Image.open(tmp_path / "on" / "p.png"))
    off = np.asarray(Image.open(tmp_path / "off" / "p.png"))
    np.testing.assert_array_equal(on, shaded)
    np.testing.assert_array_equal(off, plain)


def cast_image(rng, height=48, width=64):
    """A photo in [-1, 1] (two flat regions, mild noise) and a cartoon of it with a warm cast
    and darkened, as a generator may drift."""
    photo = np.full((1, height, width, 3), -0.1, np.float32)
    photo[:, :, width // 2:] = (0.5, 0.3, 0.1)
    photo += rng.normal(0, 0.02, photo.shape).astype(np.float32)
    return photo, photo * 0.9 + np.float32([0.08, 0.0, -0.12]) - 0.1


def test_the_photo_colour_step_removes_the_generators_cast(rng):
    photo, cartoon = cast_image(rng)
    plain = CelShading(**FLAT_TONES, line_threshold=1e3)
    kept = CelShading(**FLAT_TONES, line_threshold=1e3, photo_radius=4)

    def cast(image):  # mean chroma and mean grey against the photo's
        chroma = image - image.mean(axis=-1, keepdims=True)
        photo_chroma = photo - photo.mean(axis=-1, keepdims=True)
        return (np.abs((chroma - photo_chroma).mean(axis=(0, 1, 2))).max(),
                abs(image.mean() - photo.mean()))

    before, after = cast(plain(cartoon).numpy()), cast(kept(cartoon, photo=photo).numpy())
    assert before[0] > 0.05 and before[1] > 0.05  # the cast and the darkening go through
    assert after[0] < 0.01 and after[1] < 0.01


def test_the_photo_colour_step_calms_and_keeps_the_flat_regions(rng):
    photo, cartoon = cast_image(rng)
    full = CelShading(**FLAT_TONES, photo_radius=4)(cartoon, photo=photo).numpy()
    calm = CelShading(**FLAT_TONES, photo_radius=4, photo_chroma=0.5)(cartoon, photo=photo).numpy()

    def colourfulness(image):
        return np.abs(image - image.mean(axis=-1, keepdims=True)).mean()

    assert colourfulness(calm) < 0.7 * colourfulness(full)
    inside = full[0, 8:40, 40:56]  # the flat warm region, away from the edge
    assert inside.std(axis=(0, 1)).max() < 0.02


def test_lift_lightens_the_middle_and_keeps_black_and_white():
    ramp = np.linspace(-1, 1, 33, dtype=np.float32)[None, None, :, None].repeat(3, axis=-1)
    stage = CelShading(levels=0, chroma_radius=0, line_threshold=1e3, gentle_slope=1e3,
                       lift=0.8)
    lifted = stage(np.repeat(ramp, 8, axis=1)).numpy()[0, 4, :, 0]
    original = ramp[0, 0, :, 0]
    assert np.all(lifted[1:-1] > original[1:-1])
    np.testing.assert_allclose(lifted[[0, -1]], [-1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("settings", [SHIPPED_STAGE, {**FLAT_TONES, "line_rule": "ink"}],
                         ids=["photo colour", "ink alone"])
def test_the_photo_steps_need_the_photo_and_keep_their_config(rng, settings):
    stage = CelShading(**settings)
    with pytest.raises(ValueError, match="pass the photo"):
        stage(rng.uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32))
    config = stage.get_config()
    assert {name: config[name] for name in settings} == settings
    assert all(getattr(stage, name) == value for name, value in settings.items())
    assert CelShading.from_config(config).get_config() == config


def test_the_colour_control_still_greys_over_the_photo_colour_step(rng):
    photo, cartoon = cast_image(rng)
    grey = CelShading(**SHIPPED_STAGE)(cartoon, settings={"saturation": tf.constant(0.0)},
                                       photo=photo).numpy()
    np.testing.assert_allclose(grey - grey.mean(axis=-1, keepdims=True), 0.0, atol=1e-5)


def test_contour_lines_draw_a_soft_edge_the_outline_rule_leaves(rng):
    """A soft edge of 24 luminance units over 8 pixels, between flat regions: the tones make
    it a step and the contour rule draws a line along it; the outline rule draws none."""
    x = np.arange(96, dtype=np.float32)
    row = np.clip((x - 46) / 8, 0, 1) * 0.48 - 0.1
    image = np.broadcast_to(row[None, None, :, None], (1, 48, 96, 3)).copy()
    image += rng.normal(0, 0.003, image.shape).astype(np.float32)
    unlined = grey_levels(CelShading(**FLAT_TONES, line_strength=0.0)(image).numpy())[24]
    outlined = grey_levels(CelShading(**FLAT_TONES)(image).numpy())[24]
    contoured = grey_levels(CelShading(**FLAT_TONES, line_rule="contour")(image).numpy())[24]
    assert (unlined - outlined).max() < 5
    assert (unlined - contoured).max() > 30
    assert np.abs(unlined - contoured)[:36].max() < 1 and np.abs(unlined - contoured)[64:].max() < 1


def test_contour_lines_leave_busy_texture_alone(rng):
    """Steep texture everywhere in a window (a fine random checker) is not lined."""
    cells = rng.integers(0, 2, (1, 16, 24, 1)).astype(np.float32)
    texture = np.repeat(np.repeat(cells, 4, axis=1), 4, axis=2).repeat(3, axis=-1) * 0.6 - 0.3
    unlined = CelShading(**FLAT_TONES, line_strength=0.0)(texture).numpy()
    contoured = CelShading(**FLAT_TONES, line_rule="contour")(texture).numpy()
    everywhere = CelShading(**FLAT_TONES, line_rule="contour", contour_busy=1.0)(texture).numpy()
    inside = (slice(None), slice(16, 48), slice(16, 80))
    assert np.abs(unlined - contoured)[inside].mean() < 0.01
    assert np.abs(unlined - everywhere)[inside].mean() > 0.1  # the busy share is what stops them


def flat_with_creases(columns, depth, height=48, width=96, level=0.3):
    """A flat grey photo in [-1, 1] with faint dark creases (3 px wide, `depth` luminance units
    deep) at `columns`, and the cartoon of it a smoothing generator gives (the creases gone)."""
    cartoon = np.full((1, height, width, 3), level, np.float32)
    photo = cartoon.copy()
    for column in columns:
        photo[:, :, column:column + 3] -= depth / 50.0
    return photo, cartoon


def test_ink_lines_draw_the_photos_faint_crease_the_cartoon_lost():
    """A crease 9 luminance units deep (23 grey levels of 255, under a stroke's 30) that the
    cartoon no longer has becomes a line over 30 luminance units dark; the rest, flat, is left
    exactly as it was, and a crease under `ink_depth` is hardly drawn."""
    photo, cartoon = flat_with_creases([47], depth=9.0)
    ink = CelShading(**FLAT_TONES, line_rule="ink")
    unlined = CelShading(**FLAT_TONES, line_strength=0.0)(cartoon).numpy()
    darkening = grey_levels(unlined)[24] - grey_levels(ink(cartoon, photo=photo).numpy())[24]
    assert darkening[47:50].max() > 30
    assert np.abs(darkening[:40]).max() < 1e-3 and np.abs(darkening[56:]).max() < 1e-3
    np.testing.assert_allclose(ink(cartoon, photo=cartoon).numpy(), unlined, atol=1e-6)
    shallow, _ = flat_with_creases([47], depth=2.0)
    assert (grey_levels(unlined)[24] - grey_levels(ink(cartoon, photo=shallow).numpy())[24]).max() < 3


def test_ink_lines_leave_grain_and_speckle_alone(rng):
    """Creases every 6 pixels (wood grain) are busy, and scattered round dark dots (3x3, as
    deep as a line) are not line-like: each is inked far less than with the busy share or
    the coherence floor lifted."""
    _, cartoon = flat_with_creases([], depth=0.0)
    grain, _ = flat_with_creases(range(2, 96, 6), depth=9.0)
    speckle = cartoon.copy()
    for row, column in rng.integers((2, 2), (45, 93), (40, 2)):
        speckle[0, row - 1:row + 2, column - 1:column + 2] = 0.3 - 12.0 / 50.0
    unlined = CelShading(**FLAT_TONES, line_strength=0.0)(cartoon).numpy()
    inside = (slice(None), slice(16, 32), slice(16, 80))
    for photo, lifted in ((grain, {"ink_busy": 1.0}), (speckle, {"ink_coherence": 0.0})):
        inked = CelShading(**FLAT_TONES, line_rule="ink")(cartoon, photo=photo).numpy()
        everywhere = CelShading(**FLAT_TONES, line_rule="ink", **lifted)(
            cartoon, photo=photo).numpy()
        guarded, unguarded = (np.abs(unlined - picture)[inside].mean()
                              for picture in (inked, everywhere))
        assert guarded < 0.3 * unguarded and unguarded > 0.004, (guarded, unguarded)
