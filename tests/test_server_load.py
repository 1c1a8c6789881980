"""`cartoonize serve` under load: concurrent clients on 127.0.0.1 mixing good and bad requests
over REST and gRPC, with a new model version dropped into the base path halfway.

The default run fires a CI-sized load; `pytest -m slow` fires the full 2,000 requests from
32 clients. Each prints the requests, concurrency, p50 and p99 latency and failures per
front end. Server and clients share one process (and its GIL), so the figures are an upper
bound of what a separate server process would show.
"""

import base64
import http.client
import itertools
import json
import shutil
import threading
import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from helpers import (
    amplification_request,
    png_bytes,
    post_head,
    predict_request,
    random_photo,
    raw_http,
)
from tensorflow_serving.apis import prediction_service_pb2_grpc

from cartoonize_tf.export.saved_model import export_saved_model
from cartoonize_tf.serving.server import start_server

PHOTO = random_photo(np.random.default_rng(0), 8, 8)
PREDICT = "/v1/models/cartoonizer:predict"


@pytest.fixture
def loaded_server(small_generator, tmp_path):
    """A server on version 1, and a complete version 2 staged outside its base path."""
    base = tmp_path / "serving" / "cartoonizer"
    export_saved_model(small_generator, base, max_pixels=64 * 64)
    staged = tmp_path / "staged"
    shutil.copytree(base / "1", staged)
    running = start_server(base, "cartoonizer", grpc_port=0, rest_port=0, host="127.0.0.1",
                           poll_seconds=0.1, workers=2)
    yield running, staged
    running.stop()


class Client:
    """One load client: its own keep-alive HTTP connection and gRPC channel."""

    def __init__(self, server):
        self.server = server
        self.http = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=60)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    def close(self):
        self.http.close()
        self.channel.close()

    def post(self, body, path=PREDICT):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.http.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        response = self.http.getresponse()
        return response.status, json.loads(response.read())

    def grpc(self, message):
        """(status name, response or None)."""
        try:
            return "OK", self.stub.Predict(message, timeout=60)
        except grpc.RpcError as error:
            return error.code().name, None


# Each case: (name, front end, good?, call(client) -> (ok, served version or None)).

def rest_rows(client):
    status, answer = client.post({"instances": [PHOTO.tolist()]})
    return status == 200 and np.asarray(answer["predictions"]).shape == (1, 8, 8, 3), None


def rest_b64(client):
    status, answer = client.post({"signature_name": "serving_bytes", "instances": [
        {"b64": base64.b64encode(png_bytes(PHOTO)).decode()}]})
    return status == 200 and "b64" in answer["predictions"][0], None


def rest_status(client):
    client.http.request("GET", "/v1/models/cartoonizer")
    response = client.http.getresponse()
    answer = json.loads(response.read())
    version = int(answer["model_version_status"][0]["version"])
    return response.status == 200, version


def grpc_images(client):
    code, response = client.grpc(predict_request(images=PHOTO[None]))
    ok = code == "OK" and tf.make_ndarray(response.outputs["cartoons"]).shape == (1, 8, 8, 3)
    return ok, response.model_spec.version.value if ok else None


def grpc_bytes(client):
    code, response = client.grpc(predict_request("serving_bytes", image_bytes=[png_bytes(PHOTO)]))
    return code == "OK" and len(response.outputs["cartoon_bytes"].string_val) == 1, None


def rest_expect(status, body, path=PREDICT):
    return lambda client: (client.post(body, path)[0] == status, None)


def raw_expect(status, head, body):
    return lambda client: (raw_http(client.server, head, body)[0] == status, None)


def grpc_expect(code, make):
    return lambda client: (client.grpc(make())[0] == code, None)


CASES = [
    ("rest rows", "rest", True, rest_rows),
    ("rest b64", "rest", True, rest_b64),
    ("rest status", "rest", True, rest_status),
    ("grpc images", "grpc", True, grpc_images),
    ("grpc bytes", "grpc", True, grpc_bytes),
    ("rest not json", "rest", False, rest_expect(400, b"{not json")),
    ("rest unknown model", "rest", False, rest_expect(404, {"instances": [PHOTO.tolist()]},
                                                      "/v1/models/other:predict")),
    ("rest over the pixel cap", "rest", False,
     rest_expect(400, {"instances": [[[[0, 0, 0]] * 5000]]})),
    ("rest Content-Length -1", "rest", False,
     raw_expect(400, post_head("Content-Length: -1"), b"{}")),
    ("grpc 54-byte amplification", "grpc", False,
     grpc_expect("INVALID_ARGUMENT", amplification_request)),
    ("grpc wrong dtype", "grpc", False,
     grpc_expect("INVALID_ARGUMENT",
                 lambda: predict_request(images=np.zeros((1, 8, 8, 3), np.float32)))),
    ("grpc not an image", "grpc", False,
     grpc_expect("INVALID_ARGUMENT",
                 lambda: predict_request("serving_bytes", image_bytes=[b"not an image"]))),
    ("grpc unknown model", "grpc", False,
     grpc_expect("NOT_FOUND", lambda: predict_request(name="x", images=PHOTO[None]))),
]
# Good and bad requests alternate: the five good cases twice per round, eight bad ones once.
ROUND = [case for pair in itertools.zip_longest(CASES[:5] * 2, CASES[5:]) for case in pair
         if case is not None]


def percentile(values, q):
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def run_load(server, staged, total, clients):
    """Fires `total` requests from `clients` threads, dropping version 2 in after a tenth.

    Returns the per-request records (name, front end, good, ok, seconds, version) and when
    version 2 was dropped in.
    """
    records, lock, counter = [], threading.Lock(), itertools.count()
    dropped, base = {}, server.registry.base_path

    def drop_new_version():
        # A complete version folder appears at once, as `cartoonize export` writes it.
        shutil.copytree(staged, base / ".incoming-2")
        (base / ".incoming-2").rename(base / "2")
        dropped["at"] = time.perf_counter()

    def work():
        client = Client(server)
        try:
            while (index := next(counter)) < total:
                if index == total // 10:
                    drop_new_version()
                name, front, good, call = ROUND[index % len(ROUND)]
                start = time.perf_counter()
                try:
                    ok, version = call(client)
                except Exception as error:  # a failure is recorded, not raised
                    ok, version = False, repr(error)
                    client.http.close()
                with lock:
                    records.append((name, front, good, ok, time.perf_counter() - start, version))
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return records, dropped.get("at")


def report(records, clients):
    lines = []
    for front in ("rest", "grpc"):
        mine = [r for r in records if r[1] == front]
        good = [r[4] for r in mine if r[2]]
        failed = [r for r in mine if not r[3]]
        lines.append(f"{front}: {len(mine)} requests ({len(good)} good, {len(mine) - len(good)} "
                     f"bad) from {clients} clients, good p50 {percentile(good, 50):.1f} ms, "
                     f"p99 {percentile(good, 99):.1f} ms, all p50 "
                     f"{percentile([r[4] for r in mine], 50):.1f} ms, failures {len(failed)}")
    return "\n".join(lines)


def check_load(loaded_server, total, clients):
    server, staged = loaded_server
    start = time.perf_counter()
    records, dropped_at = run_load(server, staged, total, clients)
    elapsed = time.perf_counter() - start
    print(f"\n{report(records, clients)}\n{total} requests in {elapsed:.1f} s")
    assert len(records) == total
    failed = [r for r in records if not r[3]]
    assert failed == [], failed[:10]
    # The new version was picked up without a failed request, and served during the load.
    deadline = time.time() + 60
    while server.registry.current.version != 2 and time.time() < deadline:
        time.sleep(0.1)
    assert dropped_at is not None and server.registry.current.version == 2
    versions = {r[5] for r in records if isinstance(r[5], int)}
    assert 1 in versions
    client = Client(server)
    try:
        assert grpc_images(client) == (True, 2) and rest_status(client) == (True, 2)
    finally:
        client.close()
    return records


def test_load_ci_sized(loaded_server):
    check_load(loaded_server, total=200, clients=16)


@pytest.mark.slow
def test_load_2000_requests_from_32_clients(loaded_server):
    records = check_load(loaded_server, total=2000, clients=32)
    assert 2 in {r[5] for r in records if isinstance(r[5], int)}, "version 2 never served"


def test_sigterm_drain_during_load(loaded_server):
    """`stop()` during load: requests already running finish; none dies half-way."""
    server, _ = loaded_server
    results, stop = [], threading.Event()

    def work():
        client = Client(server)
        try:
            while not stop.is_set():
                try:
                    ok, _ = grpc_images(client)
                    results.append("ok" if ok else "refused")
                except Exception as error:
                    results.append(repr(error))
        finally:
            client.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    assert server.stop(grace=10)
    stop.set()
    for thread in threads:
        thread.join(60)
    assert "ok" in results
    # After the stop, calls are refused cleanly (UNAVAILABLE), never answered wrongly.
    assert all(r in ("ok", "refused") for r in results), set(results)
