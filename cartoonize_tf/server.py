"""`cartoonize serve`: TF Serving's gRPC and REST APIs for a SavedModel base path, on one machine."""

import argparse
import threading
from dataclasses import dataclass

from cartoonize_tf.export_commands import DEFAULT_SAVED_MODEL_BASE


@dataclass
class RunningServer:
    """Handles of a started server; `stop()` shuts everything down."""

    registry: object
    predictor: object
    grpc_server: object
    grpc_port: int
    rest_server: object
    rest_port: int

    def stop(self):
        self.rest_server.shutdown()
        self.rest_server.server_close()
        self.grpc_server.stop(grace=1).wait()
        self.predictor.shutdown()
        self.registry.stop()


def start_server(model_base_path, model_name="cartoonizer", grpc_port=8500, rest_port=8501,
                 host="0.0.0.0", workers=2, max_message_bytes=64 << 20, poll_seconds=2.0):
    """Loads the newest version and starts both front ends (port 0: any free port)."""
    from cartoonize_tf.grpc_service import grpc_server
    from cartoonize_tf.model_registry import ModelRegistry
    from cartoonize_tf.prediction import Predictor
    from cartoonize_tf.rest_service import rest_server

    registry = ModelRegistry(model_base_path, model_name, poll_seconds)
    predictor = Predictor(registry, workers)
    grpc_handle, bound_grpc = grpc_server(predictor, grpc_port, host, max_message_bytes,
                                          threads=4 * workers)
    rest_handle, bound_rest = rest_server(predictor, rest_port, host, max_message_bytes)
    threading.Thread(target=rest_handle.serve_forever, daemon=True, name="rest").start()
    return RunningServer(registry, predictor, grpc_handle, bound_grpc, rest_handle, bound_rest)


def add_serve_parser(subparsers):
    parser = subparsers.add_parser(
        "serve", help="serve a SavedModel with TF Serving's gRPC and REST APIs",
        description="Answer TF Serving's gRPC (PredictionService.Predict, GetModelMetadata, "
                    "ModelService.GetModelStatus) and REST (/v1/models/...) requests for the "
                    "newest numeric version under --model-base-path, picking up new versions "
                    "without a restart. Clients written for TF Serving work unchanged.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model-base-path", default=str(DEFAULT_SAVED_MODEL_BASE))
    parser.add_argument("--model-name", default="cartoonizer")
    parser.add_argument("--grpc-port", type=int, default=8500)
    parser.add_argument("--rest-port", type=int, default=8501)
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument("--workers", type=int, default=2,
                        help="requests run at once; the rest queue")
    parser.add_argument("--max-message-mb", type=int, default=64,
                        help="largest gRPC message or REST body")
    parser.add_argument("--poll-seconds", type=float, default=2.0,
                        help="how often to look for a new version")
    parser.set_defaults(handler=serve_command)


def serve_command(args):
    import sys
    try:
        server = start_server(args.model_base_path, args.model_name, args.grpc_port,
                              args.rest_port, args.host, args.workers,
                              args.max_message_mb << 20, args.poll_seconds)
    except (FileNotFoundError, OSError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Serving {args.model_name} version {server.registry.current.version} from "
          f"{args.model_base_path}: gRPC on {args.host}:{server.grpc_port}, REST on "
          f"http://{args.host}:{server.rest_port}/v1/models/{args.model_name}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
    return 0
