"""The look controls: a cartoon's tones, flatness, lines and colour, chosen per request.

Their names, ranges and the named presets, as the exported signatures, the server, the
command line and the web page take them; `whitebox.look` turns them into the settings of the
generator's `CelShading` stage. A control left out keeps the model's own setting.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    """One look control: its range, its value in the shipped model, and what it does."""

    name: str
    low: float
    high: float
    default: float
    meaning: str
    integer: bool = False
    excluded: tuple = ()  # values inside the range it does not take

    def requirement(self, label=None):
        """What a value must be, as an error says it: "lines must be a number from 0 to 3"."""
        kind = "a whole number" if self.integer else "a number"
        but = f" other than {', '.join(f'{v:g}' for v in self.excluded)}" if self.excluded else ""
        return f"{label or self.name} must be {kind} from {self.low:g} to {self.high:g}{but}"

    def check(self, value, label=None):
        """`value` as this control takes it; ValueError naming the range (and `label`, the
        control's name unless given: a command-line option, say) otherwise."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                self.low <= value <= self.high) or (self.integer and int(value) != value) \
                or value in self.excluded:
            raise ValueError(f"{self.requirement(label)}, got {value!r}")
        return int(value) if self.integer else float(value)


CONTROLS = {control.name: control for control in (
    Control("tones", 0, 16, 0, "bands of brightness the shading is drawn in (0: no bands, "
            "the flat tones alone; 4: a poster)", integer=True, excluded=(1,)),
    Control("flatness", 0.0, 12.0, 5.0, "how much shading is flattened into one tone: the "
            "contrast (out of 100) that goes flat; 0 keeps the model's shading"),
    Control("lines", 0.0, 3.0, 1.0, "line strength (0: none, 1: the model's, 3: black)"),
    Control("line_width", 1, 4, 1, "line width (1: the model's; each step widens the "
            "lines by a pixel on either side, with rounded ends)", integer=True),
    Control("colour", 0.0, 2.0, 1.0, "colour saturation (0: grey, 1: the model's, 2: vivid)"),
)}

# Named looks: a soft one near the photo, the model's own, a bold poster.
PRESETS = {
    "soft": {"flatness": 2.0, "lines": 0.5, "colour": 0.9},
    "default": {},
    "bold": {"flatness": 8.0, "lines": 2.0, "line_width": 2, "colour": 1.3},
}

def check_look(look, preset=None, label=None):
    """The controls of `preset` (a name in `PRESETS`), overridden by `look` ({name: value}),
    each checked; ValueError for an unknown name or a value out of its range, naming the
    control as `label(name)` says (its own name unless given: a command-line option, say)."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    merged = {**PRESETS.get(preset, {}), **(look or {})}
    unknown = sorted(set(merged) - set(CONTROLS))
    if unknown:
        raise ValueError(f"unknown look control {unknown[0]!r}: choose from "
                         f"{', '.join(CONTROLS)}")
    return {name: CONTROLS[name].check(value, label and label(name))
            for name, value in merged.items()}


def checked_look(look):
    """A look as the Python API takes it, a preset's name or {control: value}, checked."""
    return check_look(None, preset=look) if isinstance(look, str) else check_look(look)
