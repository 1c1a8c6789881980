"""A TF-Serving-compatible server: gRPC and REST front ends over one model registry."""

import threading
from dataclasses import dataclass

from cartoonize_tf.serving.grpc_service import grpc_server
from cartoonize_tf.serving.prediction import Predictor
from cartoonize_tf.serving.registry import ModelRegistry
from cartoonize_tf.serving.rest_service import rest_server


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
    registry = ModelRegistry(model_base_path, model_name, poll_seconds)
    predictor = Predictor(registry, workers)
    grpc_handle, bound_grpc = grpc_server(predictor, grpc_port, host, max_message_bytes,
                                          threads=4 * workers)
    rest_handle, bound_rest = rest_server(predictor, rest_port, host, max_message_bytes)
    threading.Thread(target=rest_handle.serve_forever, daemon=True, name="rest").start()
    return RunningServer(registry, predictor, grpc_handle, bound_grpc, rest_handle, bound_rest)
