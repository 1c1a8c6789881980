"""Helpers the tests import: project paths, small pictures, and the Keras layer check."""

import io
import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cartoonize_tf.contract.look import CONTROLS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The golden outputs of the authors' code live beside the checkout, never inside it.
REFERENCE_DIR = Path(os.environ.get("CARTOONIZE_TF_REFERENCE",
                                    PROJECT_ROOT.parent / "shared" / "reference"))
# The tones of the shipped model's cel stage: flat tones of an edge-preserving smooth, steps
# at edges, no bands.
FLAT_TONES = {"levels": 0, "flat_radius": 8, "flat_eps": 25.0, "edge_sharpening": 10.0,
              "edge_radius": 4, "chroma_radius": 6}
# The whole stage of the shipped model (saved_models/cartoonizer.keras): those tones with their
# dark bands thinned, the photo's faint dark lines inked, then the photo's colour kept over
# 33x33 windows, calmed, and lightened (a call needs the photo).
SHIPPED_STAGE = {**FLAT_TONES, "photo_radius": 16, "photo_chroma": 0.92, "lift": 0.9,
                 "line_rule": "ink", "ink_radius": 4, "ink_depth": 5.5, "ink_coherence": 0.55,
                 "ink_busy": 0.1, "thin_radius": 5, "thin_depth": 12.0}
# Every look control at the bottom, and at the top, of its range.
LOW_ENDS = {name: control.low for name, control in CONTROLS.items()}
HIGH_ENDS = {name: control.high for name, control in CONTROLS.items()}


def random_photo(rng, height, width):
    """A smooth colourful uint8 RGB image (gradients plus noise) of the given size."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx / max(width - 1, 1), yy / max(height - 1, 1),
                     0.5 + 0.5 * np.sin(xx / 7.0 + yy / 5.0)], axis=-1)
    noisy = base * 220 + rng.normal(0, 12, size=(height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def png_bytes(image):
    """A uint8 image encoded as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def run_layer_test(cls, init_kwargs, inputs, expected_output_shape, tmp_path,
                   expected_output_dtype="float32", atol=1e-6):
    """Checks a registered Keras layer or model the way keras-hub's layer tests do.

    - every constructor argument is an attribute and comes back from `get_config`
      (tuples may come back as lists);
    - `from_config` and `keras.saving.deserialize_keras_object` rebuild it
      without `custom_objects`, with the same config;
    - a call on `inputs` (an array or a list of arrays) gives the expected
      shape and dtype;
    - a `.keras` save and load, without `custom_objects`, gives the same outputs.

    Returns the instance that was checked, for further assertions.
    """
    import keras

    instance = cls(**init_kwargs)
    config = instance.get_config()
    for name, value in init_kwargs.items():
        # An attribute per argument (Keras may keep a resolved form, e.g. an activation function).
        assert hasattr(instance, name), f"{cls.__name__} keeps no attribute {name!r}"
        stored = config[name]
        same = (tuple(stored) == tuple(value) if isinstance(value, (tuple, list))
                else stored == value)
        assert same, f"{cls.__name__}.get_config() gives {name}={stored!r}, not {value!r}"
    assert cls.from_config(config).get_config() == config
    serialized = keras.saving.serialize_keras_object(instance)
    assert keras.saving.deserialize_keras_object(serialized).get_config() == config

    outputs = instance(inputs)
    assert tuple(outputs.shape) == tuple(expected_output_shape)
    assert keras.backend.standardize_dtype(outputs.dtype) == expected_output_dtype

    if isinstance(instance, keras.Model):
        saved = instance
    else:
        if isinstance(inputs, list):
            symbolic = [keras.Input(array.shape[1:]) for array in inputs]
        else:
            symbolic = keras.Input(inputs.shape[1:])
        saved = keras.Model(symbolic, instance(symbolic))
    path = tmp_path / f"{cls.__name__}.keras"
    saved.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(saved(inputs)), atol=atol)
    return instance


def png_claiming(width, height):
    """A tiny PNG whose header claims `width` x `height` RGB pixels (a decompression bomb's header).

    Only the first rows' data follow, so it is small; anything that decodes before
    checking the header size would allocate width * height * 3 bytes.
    """
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\0" * (1 + 3 * min(width, 1024)) * 4)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows)
            + chunk(b"IEND", b""))


def predict_request(signature="serving_default", name="cartoonizer", version=None, **inputs):
    """A TF Serving gRPC PredictRequest with `inputs` (arrays) as its tensors."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    message = predict_pb2.PredictRequest()
    message.model_spec.name = name
    message.model_spec.signature_name = signature
    if version is not None:
        message.model_spec.version.value = version
    for key, value in inputs.items():
        message.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return message


def claimed_tensor(dims, dtype=None, **values):
    """A TensorProto claiming shape `dims` (uint8 unless `dtype`) with only the given values."""
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in dims])
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_UINT8 if dtype is None else dtype,
                                  tensor_shape=shape, **values)


def amplification_request(dims=(1, 30000, 30000, 3)):
    """54 bytes that claim 2.7 GB: one int_val for a [1, 30000, 30000, 3] uint8 tensor."""
    from tensorflow_serving.apis import predict_pb2

    message = predict_pb2.PredictRequest()
    message.model_spec.name = "cartoonizer"
    message.inputs["images"].CopyFrom(claimed_tensor(dims, int_val=[7]))
    return message


def raw_http(server, head, body=b"", half_close=False):
    """Sends raw bytes to the REST port; returns (status, JSON answer) or (None, None) if dropped."""
    import json
    import socket

    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as connection:
        try:
            connection.sendall(head.encode() + b"\r\n" + body)
            if half_close:
                connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
                dict(line.split(": ", 1) for line in data.split(b"\r\n\r\n")[0].decode()
                     .split("\r\n")[1:]).get("Content-Length", 0)):
            piece = connection.recv(1 << 16)
            if not piece:
                break
            data += piece
    if not data:
        return None, None
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def post_head(length_header, path="/v1/models/cartoonizer:predict"):
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{length_header}\r\n"


def make_test_video(path, width=64, height=48, rate=12, seconds=1.5, video_codec="libx264",
                    audio_codec="aac", sample_rate=16000, tone=440.0, frames=None):
    """A short video with a moving colour pattern (or `frames`) and a sine tone (mono; none
    when `audio_codec` is None), written with PyAV.

    Returns the frames as written (uint8 RGB), before the codec's losses.
    """
    import av

    given = frames
    frames = []
    with av.open(str(path), "w") as output:
        video = output.add_stream(video_codec, rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if audio_codec:
            audio = output.add_stream(audio_codec, rate=sample_rate)
            audio.layout = "mono"
        yy, xx = np.mgrid[0:height, 0:width]
        for index in range(len(given) if given is not None else round(rate * seconds)):
            rgb = given[index] if given is not None else np.stack(
                [(xx * 4 + index * 3) % 256, (yy * 5) % 256, np.full_like(xx, 128)],
                axis=-1).astype(np.uint8)
            frames.append(rgb)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if audio is not None:
            count = int(sample_rate * seconds)
            samples = (0.3 * np.sin(2 * np.pi * tone * np.arange(count) / sample_rate))
            samples = samples.astype(np.float32)
            step = audio.codec_context.frame_size or 1024
            for start in range(0, count, step):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[None, start:start + step]), format="flt",
                    layout="mono")
                frame.sample_rate, frame.pts = sample_rate, start
                output.mux(audio.encode(frame))
            output.mux(audio.encode(None))
    return frames


def video_facts(path):
    """(frame count decoded, frame rate, (width, height), audio codec or None, audio seconds,
    audio packets' bytes) of a video file."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        rate, size = video.average_rate, (video.codec_context.width, video.codec_context.height)
        audio = container.streams.audio[0] if container.streams.audio else None
        packets = [bytes(p) for p in container.demux(audio) if p.dts is not None] if audio else []
        seconds = None
        if audio is not None:
            seconds = float(audio.duration * audio.time_base) if audio.duration else \
                container.duration / 1e6
        container.seek(0)
        count = sum(1 for _ in container.decode(video=0))
    return count, rate, size, audio.codec_context.name if audio else None, seconds, packets


@contextmanager
def served(generator, folder, max_pixels, **options):
    """`cartoonize serve` in-process on free 127.0.0.1 ports, for `generator` exported to
    `folder/cartoonizer` with `max_pixels`; stopped on leaving."""
    from cartoonize_tf.export.saved_model import export_saved_model
    from cartoonize_tf.serving.server import start_server

    base = Path(folder) / "cartoonizer"
    export_saved_model(generator, base, max_pixels=max_pixels)
    running = start_server(base, "cartoonizer", grpc_port=0, rest_port=0, host="127.0.0.1",
                           **options)
    try:
        yield running
    finally:
        running.stop()


def training_env(backend, compile_cache=None):
    """The environment of a training process on Keras's `backend` ("tensorflow" or "jax").

    JAX runs on the CPU with TensorFlow out of reach (as on a GPU machine without it);
    runs given the same `compile_cache` folder reuse each other's compiled steps.
    """
    env = {**os.environ, "KERAS_BACKEND": backend}
    if backend == "jax":
        blocker = Path(__file__).parent / "no_tensorflow"
        cache = {"JAX_COMPILATION_CACHE_DIR": str(compile_cache)} if compile_cache else {}
        env.update(cache, JAX_PLATFORMS="cpu",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(blocker),
                                                           os.environ.get("PYTHONPATH")])))
    return env


def summary_tags(logs_dir):
    """The summary tags (scalars and images) TensorBoard reads from the event files in
    `logs_dir`."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logs_dir))
    events.Reload()
    return set(events.Tags()["tensors"]) | set(events.Tags()["scalars"])


@contextmanager
def prediction_stub(server):
    """A gRPC PredictionService stub for a `served` server, its channel closed on leaving."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    try:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
    finally:
        channel.close()


@contextmanager
def silent_predict_calls(port, count, connections=1, seconds=60):
    """`count` gRPC Predict calls to `port`, from a client of their own over `connections`
    connections, that send headers and never a message (for up to `seconds`); yields their
    futures and cancels them on leaving."""
    import threading

    import grpc

    never = threading.Event()

    def no_message():
        never.wait(seconds)  # the request stream stays open, empty
        return
        yield

    channels = [grpc.insecure_channel(f"127.0.0.1:{port}",
                                      options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(connections)]
    calls = [channels[index % connections]
             .stream_unary("/tensorflow.serving.PredictionService/Predict")
             .future(no_message(), timeout=seconds) for index in range(count)]
    try:
        yield calls
    finally:
        never.set()
        for call in calls:
            call.cancel()
        for channel in channels:
            channel.close()
