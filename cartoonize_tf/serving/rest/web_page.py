"""The web page at `/`: plain HTML, CSS and JavaScript shipped in the package, no build step.

It talks to the same server's REST API (`serving_bytes`, and `serving_look_bytes` for a
look of its own), so it works against any deployment of `cartoonize serve`; photos are
sent, cartooned and answered, never stored. Strength, the photo | cartoon split and the
ZIP of all results are computed in the page.
"""

import json
from importlib import resources

import tensorflow as tf
from aiohttp import web

from cartoonize_tf.contract.look import CONTROLS, PRESETS
from cartoonize_tf.contract.signatures import LOOK_BYTES_SIGNATURE

# Scripts and styles from this server only, no inline code, no framing, no form posts; images
# may be the page's own blob: URLs (photos and cartoons never leave the browser but to the API).
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' blob: data:; connect-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}
PAGE_FILES = {"/": ("index.html", "text/html"), "/index.html": ("index.html", "text/html"),
              "/static/app.js": ("app.js", "text/javascript"),
              "/static/style.css": ("style.css", "text/css"),
              "/static/icon.svg": ("icon.svg", "image/svg+xml"),
              "/favicon.ico": ("icon.svg", "image/svg+xml")}
CONFIG_PATH = "/config.json"
# A slider's step for a control that takes any number in its range.
FINE_STEP = 0.1


def is_page_path(path):
    return path in PAGE_FILES or path == CONFIG_PATH


def look_config(signature_defs):
    """The look panel's sliders and presets for a version's `signature_defs`, each slider
    starting at the model's own value (its SignatureDef's `defaults`); None without
    LOOK_BYTES_SIGNATURE."""
    signature = signature_defs.get(LOOK_BYTES_SIGNATURE)
    if signature is None:
        return None
    controls = []
    for control in CONTROLS.values():
        own = signature.defaults.get(control.name)
        value = control.default if own is None else tf.make_ndarray(own).item()
        label = control.name.replace("_", " ").capitalize()
        controls.append({"name": control.name, "label": label, "low": control.low, "high": control.high,
                         "step": 1 if control.integer else FINE_STEP,
                         "excluded": list(control.excluded), "meaning": control.meaning,
                         "default": int(value) if control.integer else float(value)})
    return {"signature": LOOK_BYTES_SIGNATURE, "controls": controls, "presets": PRESETS}


def page_response(path, model_name, max_pixels, max_body_bytes, signature_defs):
    """The answer to a GET of one of the page's paths (`is_page_path`); config.json describes
    the version whose `signature_defs` are given (the one served now), with a `look` entry
    when it has LOOK_BYTES_SIGNATURE."""
    if path == CONFIG_PATH:
        config = {"model": model_name, "max_pixels": max_pixels, "max_body_bytes": max_body_bytes}
        look = look_config(signature_defs)
        if look is not None:  # no look panel for a model without a cel stage
            config["look"] = look
        body = json.dumps(config).encode()
        content_type = "application/json"
    else:
        name, content_type = PAGE_FILES[path]
        body = resources.files("cartoonize_tf.serving.rest").joinpath("web", name).read_bytes()
    return web.Response(body=body, content_type=content_type, charset="utf-8",
                        headers=SECURITY_HEADERS)
