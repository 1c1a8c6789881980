"""Cartoonize image files through TF Serving's REST API (real TF Serving or `cartoonize serve`).

    python serving/rest_client.py photo.jpg [more.jpg ...] --server http://localhost:8501 --output-dir out

Posts each file as `{"b64": ...}` to the `serving_bytes` signature (row format) and writes
the PNG it gets back. Uses only the standard library.
"""

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path


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
    args = parser.parse_args()

    url = f"{args.server.rstrip('/')}/v1/models/{args.model_name}:predict"
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in map(Path, args.images):
        body = {"signature_name": "serving_bytes",
                "instances": [{"b64": base64.b64encode(path.read_bytes()).decode()}]}
        request = urllib.request.Request(url, json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=args.timeout) as response:
                prediction = json.load(response)["predictions"][0]
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
