"""The web page at `/`: plain HTML, CSS and JavaScript shipped in the package, no build step.

It talks to the same server's REST API (`serving_bytes`), so it works against
any deployment of `cartoonize serve`; photos are sent, cartooned and
answered, never stored. Strength, the photo | cartoon split and the ZIP of
all results are computed in the page.
"""

import json
from importlib import resources

from aiohttp import web

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


def is_page_path(path):
    return path in PAGE_FILES or path == CONFIG_PATH


def page_response(path, model_name, max_pixels, max_body_bytes):
    """The answer to a GET of one of the page's paths (`is_page_path`)."""
    if path == CONFIG_PATH:
        body = json.dumps({"model": model_name, "max_pixels": max_pixels,
                           "max_body_bytes": max_body_bytes}).encode()
        content_type = "application/json"
    else:
        name, content_type = PAGE_FILES[path]
        body = resources.files("cartoonize_tf.serving").joinpath("web", name).read_bytes()
    return web.Response(body=body, content_type=content_type, charset="utf-8",
                        headers=SECURITY_HEADERS)
