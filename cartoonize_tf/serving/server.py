"""A TF-Serving-compatible server: gRPC and REST front ends over one model registry."""

import time
from dataclasses import dataclass

from cartoonize_tf.serving.allocator import keep_large_blocks_mapped
from cartoonize_tf.serving.defaults import MAX_CONNECTIONS
from cartoonize_tf.serving.grpc_service import grpc_server
from cartoonize_tf.serving.memory_budget import MemoryBudget, default_budget_bytes
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

    def stop(self, grace=1.0):
        """Stops accepting, lets in-flight requests finish for up to `grace` s, then shuts down.

        Returns True when every in-flight request finished within the grace period.
        """
        deadline = time.monotonic() + grace
        grpc_done = self.grpc_server.stop(grace=grace)
        rest_drained = self.rest_server.stop(grace)
        grpc_drained = grpc_done.wait(max(0.0, deadline - time.monotonic()) + 0.5)
        self.predictor.shutdown()
        self.registry.stop()
        return bool(rest_drained and grpc_drained)


def start_server(model_base_path, model_name="cartoonizer", grpc_port=8500, rest_port=8501,
                 host="127.0.0.1", workers=2, max_message_bytes=64 << 20, poll_seconds=2.0,
                 max_pixels=None, memory_budget_bytes=None, max_connections=MAX_CONNECTIONS,
                 local_only=False):
    """Loads the newest version and starts both front ends (port 0: any free port).

    `max_pixels` caps height * width of a request below the cap the version was
    exported with; `memory_budget_bytes` bounds the memory of all requests in
    flight (default: three quarters of the machine's or the cgroup's memory);
    `max_connections` caps open REST connections; `local_only` has REST answer only
    requests addressed to the loopback address (`serve --web`). A port in use raises
    OSError and nothing is left running.
    """
    keep_large_blocks_mapped()
    registry = ModelRegistry(model_base_path, model_name, poll_seconds)
    # One tensor never holds more elements than a message has bytes (uint8 in tensor_content).
    budget = MemoryBudget(memory_budget_bytes or default_budget_bytes())
    predictor = Predictor(registry, workers, max_pixels, max_elements=max_message_bytes,
                          budget=budget)
    try:
        rest_handle, bound_rest = rest_server(predictor, rest_port, host, max_message_bytes,
                                              threads=4 * workers,
                                              max_connections=max_connections,
                                              local_only=local_only)
    except OSError:
        predictor.shutdown()
        registry.stop()
        raise
    try:
        grpc_handle, bound_grpc = grpc_server(predictor, grpc_port, host, max_message_bytes,
                                              threads=4 * workers)
    except OSError:
        rest_handle.stop(0)
        predictor.shutdown()
        registry.stop()
        raise
    try:
        rest_handle.start()
    except BaseException:
        grpc_handle.stop(0)
        predictor.shutdown()
        registry.stop()
        raise
    return RunningServer(registry, predictor, grpc_handle, bound_grpc, rest_handle, bound_rest)
