"""TF Serving's gRPC API (PredictionService.Predict / GetModelMetadata, ModelService.GetModelStatus)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import tensorflow as tf
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from cartoonize_tf.serving.errors import ServingError
from cartoonize_tf.serving.limits import check_tensor_proto

IDLE_CONNECTION_MS = 5 * 60 * 1000
MAX_QUEUED_RPCS_PER_THREAD = 8


def requested_version(model_spec):
    return model_spec.version.value if model_spec.HasField("version") else None


def abort(context, error):
    context.abort(getattr(grpc.StatusCode, error.code), error.message)


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict and GetModelMetadata over the shared `Predictor`."""

    def __init__(self, predictor):
        self.predictor = predictor

    def Predict(self, request, context):
        try:
            # The claimed shapes first: make_ndarray expands one int_val to the whole shape.
            loaded = self.predictor.registry.get(request.model_spec.name,
                                                 requested_version(request.model_spec))
            max_pixels = self.predictor.pixel_limit(loaded)
            for name, proto in request.inputs.items():
                check_tensor_proto(name, proto, max_pixels, self.predictor.max_elements)
            cancelled = threading.Event()
            context.add_callback(cancelled.set)  # the RPC ended: deadline, client gone, or done
            # The arrays made from the message are about its size again.
            with self.predictor.budget.reserve(request.ByteSize(), "this request's tensors",
                                               timeout=context.time_remaining(),
                                               cancelled=cancelled):
                try:
                    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
                except Exception as error:  # noqa: BLE001 - any malformed TensorProto
                    raise ServingError("INVALID_ARGUMENT",
                                       f"malformed input tensor: {error}") from None
                version, signature, outputs = self.predictor.predict(
                    loaded, request.model_spec.signature_name, inputs,
                    timeout=context.time_remaining(), cancelled=cancelled)
        except ServingError as error:
            abort(context, error)
        response = predict_pb2.PredictResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = version
        response.model_spec.signature_name = signature
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response

    def GetModelMetadata(self, request, context):
        try:
            if list(request.metadata_field) != ["signature_def"]:
                raise ServingError("INVALID_ARGUMENT",
                                   "metadata_field must be exactly ['signature_def']")
            loaded = self.predictor.registry.get(request.model_spec.name,
                                                 requested_version(request.model_spec))
        except ServingError as error:
            abort(context, error)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = request.model_spec.name
        response.model_spec.version.value = loaded.version
        response.metadata["signature_def"].Pack(loaded.signature_def_map())
        return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus: the served version is AVAILABLE."""

    def __init__(self, registry):
        self.registry = registry

    def GetModelStatus(self, request, context):
        try:
            loaded = self.registry.get(request.model_spec.name,
                                       requested_version(request.model_spec))
        except ServingError as error:
            abort(context, error)
        response = get_model_status_pb2.GetModelStatusResponse()
        status = response.model_version_status.add()
        status.version = loaded.version
        status.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
        return response


def grpc_server(predictor, port, host="127.0.0.1", max_message_bytes=64 << 20, threads=8):
    """A started gRPC server bound to `host:port`; returns (server, bound port).

    Port sharing is off (`grpc.so_reuseport` 0): a port in use is an OSError,
    not a second server silently listening beside the first.
    """
    options = [("grpc.max_receive_message_length", max_message_bytes),
               ("grpc.max_send_message_length", max_message_bytes),
               ("grpc.so_reuseport", 0),
               # An idle connection is closed (clients reconnect when they next call).
               ("grpc.max_connection_idle_ms", IDLE_CONNECTION_MS)]
    # RPCs past `threads` queue; past MAX_QUEUED_RPCS_PER_THREAD times it, RESOURCE_EXHAUSTED.
    server = grpc.server(ThreadPoolExecutor(max_workers=threads), options=options,
                         maximum_concurrent_rpcs=threads * MAX_QUEUED_RPCS_PER_THREAD)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(predictor), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(predictor.registry),
                                                              server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"cannot listen for gRPC on {host}:{port} (the port is in use or the "
                      "address is not this machine's); choose another --grpc-port")
    server.start()
    return server, bound
