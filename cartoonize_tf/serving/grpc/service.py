"""TF Serving's gRPC API (PredictionService.Predict / GetModelMetadata, ModelService.GetModelStatus).

On grpc's asyncio server, in an event loop of its own: a call waiting for its request
message costs a coroutine, not a thread, and Predict's message is admitted into the memory
budget before it is buffered (`messages`), so neither silent calls nor half-sent messages
can take every slot or the memory; the work itself runs on a thread pool whose queue is
bounded, and then on the predictor's workers.
"""

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    model_service_pb2_grpc,
    predict_pb2,
)

from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.front_end import Activity, LoopThread
from cartoonize_tf.serving.core.limits import check_tensor_proto, largest_message_bytes
from cartoonize_tf.serving.core.memory_budget import run_holding
from cartoonize_tf.serving.grpc.messages import MessageWaits

logger = logging.getLogger(__name__)

IDLE_CONNECTION_MS = 5 * 60 * 1000
# A connection is closed after this long, its calls given this much more to end (clients
# reconnect), so no connection is held for ever.
CONNECTION_AGE_MS = 30 * 60 * 1000
CONNECTION_AGE_GRACE_MS = 5 * 60 * 1000
# Calls whose message has arrived, handed to the thread pool (running or waiting), at most.
MAX_POOL_CALLS = 64
# Calls in flight at most (waiting for their message, queued or running); past it,
# RESOURCE_EXHAUSTED. High: a waiting call costs little, the predictor bounds the work.
MAX_CONCURRENT_RPCS = 4096
# Streams one connection may have open at once (HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS).
MAX_STREAMS_PER_CONNECTION = 64


def requested_version(model_spec):
    return model_spec.version.value if model_spec.HasField("version") else None


async def abort(context, error):
    """Ends the call with a ServingError's status and message."""
    await context.abort(getattr(grpc.StatusCode, error.code), error.message)


async def answered(context, pool, work, *args):
    """`work(*args)` on `pool`; a ServingError it raises aborts the call with its status."""
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
    except ServingError as error:
        await abort(context, error)


class PredictionService:
    """Predict and GetModelMetadata over the shared `Predictor` (`handler()` registers them;
    PredictionService's other methods are UNIMPLEMENTED)."""

    def __init__(self, predictor, pool, message_bytes):
        self.predictor = predictor
        self.pool = pool
        self.messages = MessageWaits(predictor.budget, message_bytes)
        self.in_pool = 0
        self.activity = Activity()  # calls in flight, for a stopping server

    def handler(self):
        """The service's gRPC handler. Predict is read as a client-streaming method (the same
        bytes on the wire) so its message is admitted before it is buffered."""
        return grpc.method_handlers_generic_handler("tensorflow.serving.PredictionService", {
            "Predict": grpc.stream_unary_rpc_method_handler(
                self.counted(self.Predict), request_deserializer=predict_pb2.PredictRequest.FromString,
                response_serializer=predict_pb2.PredictResponse.SerializeToString),
            "GetModelMetadata": grpc.unary_unary_rpc_method_handler(
                self.counted(self.GetModelMetadata),
                request_deserializer=get_model_metadata_pb2.GetModelMetadataRequest.FromString,
                response_serializer=(
                    get_model_metadata_pb2.GetModelMetadataResponse.SerializeToString))})

    def counted(self, method):
        """`method` counted in `activity` while it runs."""
        async def call(request, context):
            with self.activity:
                return await method(request, context)

        return call

    async def Predict(self, _, context):
        cancelled = threading.Event()
        context.add_done_callback(lambda _: cancelled.set())  # deadline, client gone, or done
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining

        def time_remaining():  # read on the pool's thread, without touching the call
            return None if deadline is None else deadline - time.monotonic()

        try:
            request, reservation = await self.messages.receive(context)
        except ServingError as error:
            await abort(context, error)
        if self.in_pool >= MAX_POOL_CALLS:
            reservation.release()
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"the server is busy: {MAX_POOL_CALLS} calls are running or "
                                "waiting for their turn; try again shortly")
        self.in_pool += 1
        try:
            return await run_holding(self.pool, reservation, self.predict, request,
                                     time_remaining, cancelled)
        except ServingError as error:
            await abort(context, error)
        finally:
            self.in_pool -= 1

    def predict(self, request, time_remaining, cancelled):
        """The PredictResponse of one request (on the thread pool; its message and the arrays
        made from it are reserved in the budget already)."""
        # The claimed shapes first: make_ndarray expands one int_val to the whole shape.
        loaded = self.predictor.registry.get(request.model_spec.name,
                                             requested_version(request.model_spec))
        max_pixels = self.predictor.pixel_limit(loaded)
        for name, proto in request.inputs.items():
            check_tensor_proto(name, proto, max_pixels, self.predictor.max_elements)
        try:
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        except Exception as error:  # any malformed TensorProto
            raise ServingError("INVALID_ARGUMENT", f"malformed input tensor: {error}") from None
        version, signature, outputs = self.predictor.predict(
            loaded, request.model_spec.signature_name, inputs,
            timeout=time_remaining(), cancelled=cancelled)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = signature
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response

    async def GetModelMetadata(self, request, context):
        return await answered(context, self.pool, self.metadata, request)

    def metadata(self, request):
        if list(request.metadata_field) != ["signature_def"]:
            raise ServingError("INVALID_ARGUMENT",
                               "metadata_field must be exactly ['signature_def']")
        loaded = self.predictor.registry.get(request.model_spec.name,
                                             requested_version(request.model_spec))
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = loaded.version
        response.metadata["signature_def"].Pack(loaded.signature_def_map())
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus: the served version is AVAILABLE."""

    def __init__(self, registry):
        self.registry = registry

    async def GetModelStatus(self, request, context):
        try:  # a dictionary look-up: no thread needed
            loaded = self.registry.get(request.model_spec.name,
                                       requested_version(request.model_spec))
        except ServingError as error:
            await abort(context, error)
        return loaded.status()


class GrpcServer:
    """The gRPC front end: an asyncio grpc server on an event loop thread of its own
    (`core.front_end`: bound when made, `start()`, `stop(grace)`), and the thread pool its
    calls' work runs on.

    Port sharing is off (`grpc.so_reuseport` 0): a port in use is an OSError, not a second
    server silently listening beside the first.
    """

    def __init__(self, predictor, port, host="127.0.0.1", max_message_bytes=64 << 20,
                 threads=8):
        # No message larger than the pixel cap of the version served at start can admit, nor
        # than the budget can hold twice (the message and the arrays made from it).
        loaded = predictor.registry.get(predictor.registry.name)
        self.message_bytes = min(max_message_bytes,
                                 largest_message_bytes(predictor.pixel_limit(loaded)),
                                 predictor.budget.total_bytes // 2)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grpc")
        self.loop_thread = LoopThread("grpc")
        self.services = (PredictionService(predictor, self.pool, self.message_bytes),
                         ModelService(predictor.registry))
        self.stopped = False
        try:
            self.server, self.port = self.loop_thread.run(
                self._bind(port, host, max_message_bytes), 30)
        except BaseException:
            self._close()
            raise

    async def _bind(self, port, host, max_message_bytes):
        options = [("grpc.max_receive_message_length", self.message_bytes),
                   ("grpc.max_send_message_length", max_message_bytes),
                   ("grpc.so_reuseport", 0),
                   ("grpc.max_concurrent_streams", MAX_STREAMS_PER_CONNECTION),
                   # An idle connection is closed (clients reconnect when they next call).
                   ("grpc.max_connection_idle_ms", IDLE_CONNECTION_MS),
                   ("grpc.max_connection_age_ms", CONNECTION_AGE_MS),
                   ("grpc.max_connection_age_grace_ms", CONNECTION_AGE_GRACE_MS)]
        server = grpc.aio.server(options=options, maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS)
        prediction, models = self.services
        server.add_generic_rpc_handlers((prediction.handler(),))
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(models, server)
        try:
            bound = server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:
            bound = 0
        if not bound:
            raise OSError(f"cannot listen for gRPC on {host}:{port} (the port is in use or the "
                          "address is not this machine's); choose another --grpc-port")
        return server, bound

    def start(self):
        self.loop_thread.run(self.server.start(), 30)

    def stop(self, grace=1.0):
        """Stops accepting calls, lets those in flight finish for up to `grace` s (then
        cancels them), and closes; True when every call in flight finished."""
        if self.stopped:
            return True
        self.stopped = True
        stopping = asyncio.run_coroutine_threadsafe(self.server.stop(grace),
                                                    self.loop_thread.loop)
        drained = self.services[0].activity.drain(grace)
        try:
            stopping.result(grace + 10)
        except Exception:  # closing goes on whatever a step did
            logger.warning("gRPC: stopping the server failed", exc_info=True)
        self._close()
        return drained

    def _close(self):
        self.loop_thread.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
