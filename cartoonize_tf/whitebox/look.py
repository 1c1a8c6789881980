"""The look controls (`contract.look`) as settings of the generator's `CelShading` stage.

Each control moves one setting of the stage (white box: no weights), so the same trained
model draws softer or bolder cartoons. A control left out keeps the model's own setting,
so no control at all is the model's own look, exactly. TensorFlow-free.
"""

# The flattening's window when a look turns it on for a stage that had none.
FLAT_RADIUS = 8
# The `CelShading` setting each control is (flatness is `flat_eps`'s square root).
CONTROL_SETTINGS = {"tones": "levels", "lines": "line_strength", "line_width": "line_width",
                    "colour": "saturation"}


def setting_values(look):
    """The `CelShading` settings the controls in `look` move, from plain numbers or from
    TensorFlow scalars alike (flatness goes in squared, as `flat_eps`; 0 flattens nothing)."""
    settings = {}
    for control, setting in CONTROL_SETTINGS.items():
        if control in look:
            settings[setting] = look[control]
    if "flatness" in look:
        settings["flat_eps"] = look["flatness"] * look["flatness"]
    return settings


def stage_settings(cel_shading, look):
    """The `CelShading` settings of a stage `cel_shading` (a generator's config dict) under
    the checked `look`: only the controls given change anything."""
    settings = {**cel_shading, **setting_values(look)}
    if look.get("flatness"):  # flattening asked of a stage that may have none
        settings["flat_radius"] = settings.get("flat_radius") or FLAT_RADIUS
    return settings


def stage_controls(config):
    """The controls' values that draw a stage's own look, from its full `CelShading` config
    (a control a stage could be given outside its range keeps that value)."""
    controls = {control: config[setting] for control, setting in CONTROL_SETTINGS.items()}
    flattens = config["flat_radius"] and config["flat_eps"]
    controls["flatness"] = config["flat_eps"] ** 0.5 if flattens else 0.0
    return controls
