"""The attacks of issues 22, 33 and 43 at full size against a `cartoonize serve` subprocess.

    python benchmarks/hostile_traffic.py [--memory-budget-mb 6144] [--cgroup-mb 8192]
                                         [--json results.json] [--only 4 5]

With `--cgroup-mb`, the server runs in a memory cgroup of that size made for it (root
only; cgroup v1 or v2) and its budget is left to its default, which must find that
limit; where the cgroup cannot be made, the run says so and goes on without it.

The server serves the shipped SavedModel (3840 x 2160 pixel cap) with its
defaults, except the memory budget: 6,144 MB is what the default gives in an
8 GB cgroup. Before each attack the server's peak resident set is reset
(/proc/PID/clear_refs); after it, one good 256 x 256 request goes over gRPC.
Prints a table: attack, the answers it got, the server's peak RSS during it,
and the good request's latency. Exits 1 if the server died or a good request
failed.
"""

import argparse
import collections
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the attack clients the tests use too
PREDICT = "/v1/models/cartoonizer:predict"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_cgroup(megabytes):
    """A new memory cgroup (v1 or v2) limited to `megabytes`, as its folder; None (with the
    reason printed) where this process cannot make one."""
    own = Path("/proc/self/cgroup").read_text().splitlines()
    v1 = next((line.split(":", 2)[2] for line in own if ":memory:" in line), None)
    base, limit_file = ((Path("/sys/fs/cgroup/memory") / v1.strip("/"), "memory.limit_in_bytes")
                        if v1 is not None else (Path("/sys/fs/cgroup"), "memory.max"))
    folder = base / f"cartoonize-hostile-{os.getpid()}"
    try:
        folder.mkdir()
        (folder / limit_file).write_text(str(megabytes << 20))
        return folder
    except OSError as error:
        print(f"note: no memory cgroup could be made under {base} ({error.strerror}); "
              "the server runs without one")
        return None


class Server:
    """`cartoonize serve` in a subprocess (in `cgroup`, if given), with its ports and its
    memory figures."""

    def __init__(self, budget_mb, cgroup=None):
        self.grpc_port, self.rest_port = free_port(), free_port()
        command = [sys.executable, "-m", "cartoonize_tf.cli.main", "serve", "--grpc-port",
                   str(self.grpc_port), "--rest-port", str(self.rest_port)]
        if budget_mb:
            command += ["--memory-budget-mb", str(budget_mb)]

        def enter_cgroup():
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))

        self.log = open(os.devnull, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                        stderr=self.log, text=True,
                                        preexec_fn=enter_cgroup if cgroup else None,
                                        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        line = self.process.stdout.readline()
        if not line.startswith("Serving"):
            raise SystemExit(f"the server did not start: {line}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}", options=[
            ("grpc.max_receive_message_length", 64 << 20)])
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    def alive(self):
        return self.process.poll() is None

    def reset_peak(self):
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def peak_mb(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.channel.close()
        self.process.terminate()
        self.process.wait(60)


def tensor(dims, dtype=types_pb2.DT_UINT8, **values):
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=size) for size in dims])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape, **values)


def request(signature="serving_default", **inputs):
    message = predict_pb2.PredictRequest()
    message.model_spec.name = "cartoonizer"
    message.model_spec.signature_name = signature
    for name, proto in inputs.items():
        message.inputs[name].CopyFrom(proto)
    return message


def predict(server, message, timeout=600):
    try:
        server.stub.Predict(message, timeout=timeout)
        return "OK"
    except grpc.RpcError as error:
        return error.code().name


def host(server):
    """The Host line of a raw request: `serve` on a loopback address answers only those
    naming it."""
    return f"Host: 127.0.0.1:{server.rest_port}\r\n"


def http(server, head, body=b"", timeout=120):
    """The status of a raw HTTP exchange (None when the connection was dropped)."""
    try:
        with socket.create_connection(("127.0.0.1", server.rest_port), timeout=timeout) as sock:
            sock.sendall(head.encode() + b"\r\n" + body)
            answer = sock.recv(64)
        return int(answer.split()[1]) if answer else None
    except OSError:
        return None


def good_request(server):
    image = np.random.default_rng(0).integers(0, 256, (1, 256, 256, 3), np.uint8)
    start = time.monotonic()
    code = predict(server, request(images=tf.make_tensor_proto(image)), timeout=60)
    return code, time.monotonic() - start


def in_parallel(count, function):
    results = [None] * count

    def run(index):
        results[index] = function()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def summary(answers):
    counts = collections.Counter(answers)
    return ", ".join(f"{count} x {answer}" for answer, count in counts.most_common())


# Each attack: (name, function(server) -> list of answers).

def amplified_strings(server):
    message = request("serving_bytes", image_bytes=tensor([100000], types_pb2.DT_STRING,
                                                           string_val=[b"x" * 40]))
    return [predict(server, message)]


def abandoned_deadlines(server):
    batch = np.random.default_rng(1).integers(0, 256, (8, 720, 1280, 3), np.uint8)
    message = request(images=tf.make_tensor_proto(batch))
    return [predict(server, message, timeout=1.0) for _ in range(4)]


def claimed_4k_pair(server):
    return in_parallel(2, lambda: predict(server, request(images=tensor(
        [2, 2160, 3840, 3], int_val=[7]))))


def honest_4k_pair(server):
    image = np.random.default_rng(2).integers(0, 256, (1, 2160, 3840, 3), np.uint8)
    message = request(images=tf.make_tensor_proto(image))
    return in_parallel(2, lambda: predict(server, message))


def held_bodies(count):
    def attack(server):
        length = (64 << 20) - 1024
        chunk = b" " * (1 << 20)
        sockets, answers = [], []
        for _ in range(count):
            try:
                sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=5)
                sock.sendall(f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: "
                             f"{length}\r\n\r\n".encode())
                sockets.append(sock)
            except OSError as error:
                answers.append(type(error).__name__)
        sent = [0] * len(sockets)
        stop = time.monotonic() + 20
        while time.monotonic() < stop:  # fill each body to 1 MB short of its length, then hold
            progress = False
            for index, sock in enumerate(sockets):
                if sent[index] < length - (1 << 20):
                    sock.setblocking(False)
                    try:
                        sent[index] += sock.send(chunk)
                        progress = True
                    except OSError:
                        pass
            if not progress:
                time.sleep(0.2)
        for sock in sockets:
            sock.close()
        answers += ["held"] * len(sockets)
        return answers
    return attack


def parsed_bodies(server):
    body = json.dumps({"instances": [[0] * (14 << 20)]}).encode()  # 44 MB, not an image
    head = f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: {len(body)}\r\n"
    return in_parallel(8, lambda: http(server, head, body))


def slow_heads(server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sockets, answers = [], []
    for _ in range(min(2000, hard - 200)):
        try:
            sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=5)
            sock.sendall(b"POST /v1/models/cartoonizer:predict HTTP/1.1\r\nHo")
            sockets.append(sock)
        except OSError as error:
            answers.append(type(error).__name__)
    answers.append(f"gRPC during: {good_request(server)[0]}")
    status_head = f"GET /v1/models/cartoonizer HTTP/1.1\r\n{host(server)}"
    answers += [f"REST during: {http(server, status_head)}" for _ in range(10)]
    time.sleep(16)  # past the request-head timeout
    for sock in sockets:
        sock.settimeout(0.5)
        try:
            data = sock.recv(64)
            answers.append("503" if data.startswith(b"HTTP/1.1 503") else
                           "closed" if not data else "other")
        except OSError:
            answers.append("still open")
        sock.close()
    return answers


def long_version(server):
    return [http(server, f"GET /v1/models/cartoonizer/versions/{'9' * 5000} HTTP/1.1\r\n"
                         f"{host(server)}")]


def lying_gifs(server):
    """A 1 x 1 screen and first frame, then a 3840 x 2160 frame (90 bytes), twice at once."""
    import struct

    def frame(width, height):
        return (b"!\xf9\x04\x00\x00\x00\x00\x00," + struct.pack("<HHHHB", 0, 0, width, height, 0)
                + b"\x02\x02D\x01\x00")

    gif = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00" + frame(1, 1)
           + frame(3840, 2160) + b";")
    message = request("serving_bytes", image_bytes=tensor([1], types_pb2.DT_STRING,
                                                          string_val=[gif]))
    return in_parallel(2, lambda: predict(server, message))


def repeated_scans(server):
    """A progressive JPEG whose last scan repeats 3,000 times (about 170 KB), 5 s deadline."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    photo = np.random.default_rng(3).integers(0, 256, (256, 256, 3), np.uint8)
    Image.fromarray(photo).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    last = data.rindex(b"\xff\xda")
    jpeg = data[:-2] + data[last:-2] * 3000 + b"\xff\xd9"
    message = request("serving_bytes", image_bytes=tensor([1], types_pb2.DT_STRING,
                                                          string_val=[jpeg]))
    return in_parallel(2, lambda: predict(server, message, timeout=5.0))


def silent_grpc_calls(server):
    """64 Predict calls that send headers and never a message; a good call and a health check
    while they are open."""
    from helpers import silent_predict_calls
    from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

    with silent_predict_calls(server.grpc_port, 64, seconds=120):
        time.sleep(1.0)
        answers = [f"good during: {good_request(server)[0]}"]
        try:
            model_service_pb2_grpc.ModelServiceStub(server.channel).GetModelStatus(
                get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "cartoonizer"}),
                timeout=10)
            answers.append("health during: OK")
        except grpc.RpcError as error:
            answers.append(f"health during: {error.code().name}")
    return answers


def trickled_bodies(server):
    """64 REST connections sending one body byte every 5 s; 13 good REST predicts meanwhile."""
    image = np.full((1, 32, 32, 3), 120, np.uint8)
    body = json.dumps({"instances": image.tolist()}).encode()
    good_head = f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: {len(body)}\r\n"
    slow = []
    for _ in range(64):
        sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=30)
        sock.sendall(f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: 100000\r\n"
                     "\r\n".encode())
        slow.append(sock)
    answers = []
    try:
        for second in range(13):
            for sock in slow:
                try:
                    sock.sendall(b" ")
                except OSError:
                    pass
            answers.append(f"good during: {http(server, good_head, body)}")
            time.sleep(5 if second % 3 == 0 else 0)
    finally:
        for sock in slow:
            sock.close()
    return answers


def encoded(image_format, array, **options):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, image_format, **options)
    return buffer.getvalue()


def bytes_request(data, signature="serving_bytes", **controls):
    message = request(signature, image_bytes=tensor([1], types_pb2.DT_STRING, string_val=[data]))
    for name, value in controls.items():
        message.inputs[name].CopyFrom(tf.make_tensor_proto(np.float32(value)))
    return message


def one_pixel_wide_bmp(server):
    """A 1 x 8,294,400 BMP (within the pixel cap by its header; 8 x that once padded)."""
    bmp = encoded("BMP", np.zeros((8294400, 1, 3), np.uint8))
    return in_parallel(2, lambda: predict(server, bytes_request(bmp)))


def tiny_image_batch(server):
    """[8294400, 1, 1, 3] uint8: within the pixel cap by N x H x W, a call per image."""
    return [predict(server, request(images=tensor([8294400, 1, 1, 3],
                                                  tensor_content=bytes(8294400 * 3))))]


def silent_calls_127(server):
    """127 Predict calls that never finish their message (each reserves the largest message
    the pixel cap admits), a good call while they wait."""
    from helpers import silent_predict_calls

    # Two connections: 64 streams each at most.
    with silent_predict_calls(server.grpc_port, 127, connections=2, seconds=120) as calls:
        time.sleep(2.0)
        answers = [f"good during: {good_request(server)[0]}"]
        answers += [call.exception().code().name if call.done() and call.exception()
                    else "waiting" for call in calls]
    return answers


def unread_answers(server):
    """512 REST clients that pipeline 100 GETs of the page script (20 KB) each and never read; REST
    status GETs while they stay."""
    clients = []
    ask = f"GET /static/app.js HTTP/1.1\r\n{host(server)}\r\n".encode() * 100
    for _ in range(512):
        try:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(5)
            sock.connect(("127.0.0.1", server.rest_port))
            sock.sendall(ask)
            clients.append(sock)
        except OSError:
            pass
    time.sleep(15)  # past the write deadline
    status_head = f"GET /v1/models/cartoonizer HTTP/1.1\r\n{host(server)}"
    answers = [f"REST during: {http(server, status_head)}" for _ in range(5)]
    for sock in clients:
        sock.close()
    return answers


def reconnecting_heads(server):
    """64 REST predict heads that send no body and reconnect when dropped, for 15 s; a good
    REST predict each second meanwhile."""
    image = np.full((1, 32, 32, 3), 120, np.uint8)
    body = json.dumps({"instances": image.tolist()}).encode()
    good_head = f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: {len(body)}\r\n"
    head = (f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: 100000\r\n\r\n"
            ).encode()
    stop = threading.Event()

    def hold():
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", server.rest_port), timeout=30) as s:
                    s.sendall(head)
                    s.recv(64)  # until dropped
            except OSError:
                time.sleep(0.05)

    holders = [threading.Thread(target=hold, daemon=True) for _ in range(64)]
    for holder in holders:
        holder.start()
    answers = []
    try:
        time.sleep(1.0)
        for _ in range(15):
            answers.append(f"good during: {http(server, good_head, body)}")
            time.sleep(1.0)
    finally:
        stop.set()
    return answers


def long_png_stream(server):
    """A 64 x 64 PNG whose IDAT goes on with 1 GiB of zeros (about 1 MB), twice at once."""
    import struct
    import zlib

    png = encoded("PNG", np.zeros((64, 64, 3), np.uint8))
    compressor = zlib.compressobj(9)
    raw = bytes(64 * (1 + 64 * 3))
    stream = compressor.compress(raw)
    zeros = bytes(1 << 24)
    for _ in range(64):
        stream += compressor.compress(zeros)
    stream += compressor.flush()
    chunk = b"IDAT" + stream
    idat = struct.pack(">I", len(stream)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    header_end = png.index(b"IDAT") - 4
    data = png[:header_end] + idat + png[png.index(b"IEND") - 4:]
    return in_parallel(2, lambda: predict(server, bytes_request(data), timeout=10))


def half_sent_messages(megabytes):
    """127 Predict calls over two connections (raw HTTP/2), each sending all but the last byte
    of a `megabytes` MB message for 22 s and holding it; a good call while they hold."""
    def attack(server):
        from raw_http2 import hold_half_sent_messages

        took, ended, good = hold_half_sent_messages(
            server.grpc_port, 127, megabytes << 20, 22.0,
            while_held=lambda: good_request(server)[0])
        return [f"server took {took / 2 ** 30:.1f} GiB", f"{ended} calls ended",
                f"good during: {good}"]
    return attack


def look_out_of_range_4k(server):
    """A 4K PNG with lines=5 (out of range): refused before any work; the seconds it took."""
    photo = encoded("PNG", np.zeros((2160, 3840, 3), np.uint8))
    start = time.monotonic()
    code = predict(server, bytes_request(photo, "serving_look_bytes", lines=5.0))
    return [f"{code} in {time.monotonic() - start:.1f} s"]


def slow_honest_upload(server):
    """A 5 MB photo (base64 in JSON) uploaded at 100 KiB/s, as a phone might."""
    import base64

    photo = np.random.default_rng(4).integers(0, 256, (1000, 1250, 3), np.uint8)
    body = json.dumps({"signature_name": "serving_bytes", "instances": [
        {"b64": base64.b64encode(encoded("PNG", photo)).decode()}]}).encode()
    try:
        with socket.create_connection(("127.0.0.1", server.rest_port), timeout=120) as sock:
            sock.sendall(f"POST {PREDICT} HTTP/1.1\r\n{host(server)}Content-Length: "
                         f"{len(body)}\r\n\r\n".encode())
            start = time.monotonic()
            for offset in range(0, len(body), 10240):
                sock.sendall(body[offset:offset + 10240])
                time.sleep(max(0.0, start + (offset + 10240) / (100 << 10) - time.monotonic()))
            answer = sock.recv(64)
        return [f"{len(body) / 1e6:.1f} MB in {time.monotonic() - start:.0f} s: "
                f"{int(answer.split()[1]) if answer else None}"]
    except OSError as error:
        return [type(error).__name__]


ATTACKS = [
    ("1. 128 bytes: string tensor claiming [100000]", amplified_strings),
    ("2. 4 x 8 x 720p batches abandoned at 1 s", abandoned_deadlines),
    ("3. 53 bytes claiming [2, 2160, 3840, 3], twice at once", claimed_4k_pair),
    ("3. honest [1, 2160, 3840, 3], twice at once", honest_4k_pair),
    ("4. 20 REST bodies of 64 MB held open", held_bodies(20)),
    ("4. 130 REST bodies of 64 MB held open", held_bodies(130)),
    ("5. 8 x 44 MB JSON bodies at once", parsed_bodies),
    ("6. 2,000 connections with slow heads", slow_heads),
    ("7. 5,000-digit version in the URL", long_version),
    ("8. GIF: 1 x 1 screen, 4K second frame, twice at once", lying_gifs),
    ("9. JPEG with 3,000 repeated scans, 5 s deadline, twice", repeated_scans),
    ("10. 64 gRPC calls that never send a message", silent_grpc_calls),
    ("11. 64 REST bodies trickled a byte every 5 s", trickled_bodies),
    ("12. BMP of 1 x 8,294,400 pixels, twice at once", one_pixel_wide_bmp),
    ("13. batch of 8,294,400 images of 1 x 1", tiny_image_batch),
    ("14. 127 gRPC calls that never finish their message", silent_calls_127),
    ("15. 512 REST clients that never read their answers", unread_answers),
    ("16. 64 REST heads without a body, reconnecting, 15 s", reconnecting_heads),
    ("17. PNG whose IDAT goes on with 1 GiB of zeros, twice", long_png_stream),
    ("18. 4K PNG with an out-of-range look control", look_out_of_range_4k),
    ("19. honest 5 MB photo uploaded at 100 KiB/s", slow_honest_upload),
    ("20. 127 gRPC calls holding all but the last byte of 60 MB", half_sent_messages(60)),
    ("21. 127 gRPC calls holding all but the last byte of 35 MB", half_sent_messages(35)),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-budget-mb", type=int, default=None,
                        help="default 6144 (the default budget in an 8 GB cgroup); with "
                             "--cgroup-mb, the server's own default")
    parser.add_argument("--cgroup-mb", type=int, default=None,
                        help="run the server in a memory cgroup of this size (root only)")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--only", nargs="+", metavar="N",
                        help="run only the attacks of these numbers (as in the table)")
    args = parser.parse_args(argv)
    attacks = [(name, attack) for name, attack in ATTACKS
               if not args.only or name.split(".")[0] in args.only]
    cgroup = memory_cgroup(args.cgroup_mb) if args.cgroup_mb else None
    if cgroup:
        print(f"server in the memory cgroup {cgroup} ({args.cgroup_mb:,} MB)")
    budget = args.memory_budget_mb or (None if cgroup else 6144)
    server = Server(budget, cgroup)
    rows = []
    try:
        print("| attack | answers | server peak RSS (MB) | good request after (s) |")
        print("| --- | --- | --- | --- |")
        for name, attack in attacks:
            server.reset_peak()
            answers = attack(server)
            peak = server.peak_mb() if server.alive() else float("nan")
            code, seconds = good_request(server) if server.alive() else ("dead", float("nan"))
            row = {"attack": name, "answers": summary(answers), "peak_rss_mb": peak,
                   "good_code": code, "good_seconds": seconds, "server_alive": server.alive()}
            rows.append(row)
            print(f"| {name} | {row['answers']} | {peak:,.0f} | "
                  f"{seconds:.2f} ({code}) |", flush=True)
            if not server.alive():
                break
    finally:
        if server.alive():
            server.stop()
        if cgroup:
            cgroup.rmdir()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["server_alive"] and r["good_code"] == "OK" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
