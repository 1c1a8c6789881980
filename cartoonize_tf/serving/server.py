"""A TF-Serving-compatible server: gRPC and REST front ends over one model registry."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cartoonize_tf.serving.core.allocator import keep_large_blocks_mapped
from cartoonize_tf.serving.core.defaults import MAX_CONNECTIONS
from cartoonize_tf.serving.core.memory_budget import MemoryBudget, default_budget_bytes
from cartoonize_tf.serving.core.prediction import Predictor
from cartoonize_tf.serving.core.registry import ModelRegistry
from cartoonize_tf.serving.grpc.service import GrpcServer
from cartoonize_tf.serving.rest.service import RestServer


def shut_down(front_ends, predictor, registry, grace):
    """Stops the front ends at once (each letting its requests finish for up to `grace` s),
    then the predictor and the registry; True when every request in flight finished."""
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(front_ends))) as stopping:
            return all(list(stopping.map(lambda front_end: front_end.stop(grace), front_ends)))
    finally:
        predictor.shutdown()
        registry.stop()


@dataclass
class RunningServer:
    """Handles of a started server; `stop()` shuts everything down."""

    registry: ModelRegistry
    predictor: Predictor
    rest_server: RestServer
    grpc_server: GrpcServer

    @property
    def rest_port(self):
        return self.rest_server.port

    @property
    def grpc_port(self):
        return self.grpc_server.port

    def stop(self, grace=1.0):
        """Stops accepting, lets in-flight requests finish for up to `grace` s, then shuts down.

        Returns True when every in-flight request finished within the grace period.
        """
        return shut_down([self.rest_server, self.grpc_server], self.predictor, self.registry,
                         grace)


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
    front_ends = []
    try:
        front_ends.append(RestServer(predictor, rest_port, host, max_message_bytes,
                                     threads=4 * workers, max_connections=max_connections,
                                     local_only=local_only))
        front_ends.append(GrpcServer(predictor, grpc_port, host, max_message_bytes,
                                     threads=4 * workers))
        for front_end in front_ends:
            front_end.start()
    except BaseException:
        shut_down(front_ends, predictor, registry, grace=0)
        raise
    return RunningServer(registry, predictor, *front_ends)
