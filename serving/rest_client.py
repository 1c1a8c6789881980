"""Cartoonize image files through TF Serving's REST API (real TF Serving or `cartoonize serve`).

    python serving/rest_client.py photo.jpg [more.jpg ...] --server http://localhost:8501 --output-dir out
    python serving/rest_client.py photo.jpg --look lines=2 --look colour=1.3

Posts each file as `{"b64": ...}` to the `serving_bytes` signature (row format) and writes
the PNG it gets back; with `--look`, to `serving_look_bytes` (columnar format, the controls
as scalars). Uses only the standard library.
"""

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

LOOK_HELP = ("a look control for the serving_look_bytes signature, NAME=NUMBER (tones, "
             "flatness, lines, line_width, colour; the server checks names and ranges); "
             "repeat for more. None: serving_bytes, the model's own look")


def look_control(text):
    """A --look value, NAME=NUMBER, as (name, number)."""
    name, _, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER (lines=2), got {text!r}") from None


def request_body(encoded, look):
    """The predict request for one encoded image: serving_bytes, or serving_look_bytes with
    the `look` controls ({name: number})."""
    image = {"b64": base64.b64encode(encoded).decode()}
    if not look:
        return {"signature_name": "serving_bytes", "instances": [image]}
    return {"signature_name": "serving_look_bytes", "inputs": {"image_bytes": [image], **look}}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", help="image files (JPEG, PNG, BMP, GIF, WebP)")
    parser.add_argument("--server", default="http://localhost:8501",
                        help="base address of the REST API (TF Serving or cartoonize serve)")
    parser.add_argument("--model-name", default="cartoonizer",
                        help="the served model's name (/v1/models/NAME)")
    parser.add_argument("--output-dir", default="cartoonized", help="where the PNGs are written")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--look", type=look_control, action="append", default=[],
                        metavar="NAME=NUMBER", help=LOOK_HELP)
    args = parser.parse_args()

    url = f"{args.server.rstrip('/')}/v1/models/{args.model_name}:predict"
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in map(Path, args.images):
        body = request_body(path.read_bytes(), dict(args.look))
        request = urllib.request.Request(url, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=args.timeout) as response:
                answer = json.load(response)
            prediction = (answer.get("predictions") or answer["outputs"])[0]
        except urllib.error.HTTPError as error:
            print(f"error: {path}: HTTP {error.code}: {error.read().decode()}", file=sys.stderr)
            failures += 1
            continue
        target = output_dir / f"{path.stem}.png"
        target.write_bytes(base64.b64decode(prediction["b64"]))
        print(f"{path} -> {target}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
