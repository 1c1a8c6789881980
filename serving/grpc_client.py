"""Cartoonize image files through TF Serving's gRPC API (real TF Serving or `cartoonize serve`).

    python serving/grpc_client.py photo.jpg [more.jpg ...] --server localhost:8500 --output-dir out
    python serving/grpc_client.py photo.jpg --look lines=2 --look colour=1.3

Sends each file's bytes to the `serving_bytes` signature and writes the PNG it gets back;
with `--look`, to `serving_look_bytes`, the controls as float scalars.
"""

import argparse
import contextlib
import os
import sys
from pathlib import Path

from rest_client import LOOK_HELP, look_control

try:  # TensorFlow's C++ start-up lines (CUDA probing) kept out of the terminal
    from cartoonize_tf.utils.quiet_stderr import stderr_silenced
except ImportError:  # this client alone, without cartoonize_tf installed
    stderr_silenced = contextlib.nullcontext


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", help="image files (JPEG, PNG, BMP, GIF, WebP)")
    parser.add_argument("--server", default="localhost:8500", help="host:port of the gRPC API")
    parser.add_argument("--model-name", default="cartoonizer",
                        help="the served model's name (model_spec.name)")
    parser.add_argument("--output-dir", default="cartoonized", help="where the PNGs are written")
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline per request, seconds")
    parser.add_argument("--look", type=look_control, action="append", default=[],
                        metavar="NAME=NUMBER", help=LOOK_HELP)
    args = parser.parse_args()

    # After the options: TensorFlow's protos load all of TensorFlow (seconds), --help needs none.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with stderr_silenced():
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    channel = grpc.insecure_channel(args.server, options=[
        ("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)])
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in map(Path, args.images):
        request = predict_pb2.PredictRequest()
        request.model_spec.name = args.model_name
        request.model_spec.signature_name = "serving_look_bytes" if args.look else "serving_bytes"
        request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto([path.read_bytes()]))
        for name, value in args.look:
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value, tf.float32))
        try:
            response = stub.Predict(request, timeout=args.timeout)
        except grpc.RpcError as error:
            print(f"error: {path}: {error.code().name}: {error.details()}", file=sys.stderr)
            failures += 1
            continue
        target = output_dir / f"{path.stem}.png"
        target.write_bytes(tf.make_ndarray(response.outputs["cartoon_bytes"])[0])
        print(f"{path} -> {target}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
