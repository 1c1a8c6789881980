"""The server against inputs that lie (issue 33): its own cgroup's memory limit, images whose
headers understate the decoder's work, version folders that would block the loader, and
requests another site's page makes through the browser."""

import asyncio
import io
import os
import struct
import time

import numpy as np
import pytest
from helpers import random_photo
from PIL import Image

from cartoonize_tf.serving.core.encoded_images import MAX_JPEG_SCANS, jpeg_scan_count
from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.limits import (
    MAX_BATCH_IMAGES,
    check_claimed_shape,
    check_encoded_images,
)
from cartoonize_tf.serving.core.memory_budget import cgroup_memory_limit, machine_memory_bytes
from cartoonize_tf.serving.core.registry import check_version_files
from cartoonize_tf.serving.rest.request_origin import check_request_origin, is_loopback

GIB = 1 << 30


def cgroup_tree(root, files):
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("own,files,expected", [
    # A systemd unit with MemoryMax=8G: the limit is on the process's own cgroup, not the root.
    ("0::/system.slice/app.service\n",
     {"system.slice/app.service/memory.max": "8589934592\n", "system.slice/memory.max": "max\n"},
     8 * GIB),
    # Nested: the parent's limit is the tighter one.
    ("0::/pods/pod1/server\n",
     {"pods/pod1/server/memory.max": "max\n", "pods/pod1/memory.max": str(2 * GIB)}, 2 * GIB),
    # A container with its own cgroup namespace: "/" is its cgroup, at the mount's root.
    ("0::/\n", {"memory.max": str(6 * GIB)}, 6 * GIB),
    # cgroup v1, the memory controller among others; the path is not mounted inside the
    # container, whose mount root holds its own limit.
    ("12:cpu,cpuacct:/docker/abc\n5:memory:/docker/abc\n",
     {"memory/memory.limit_in_bytes": str(4 * GIB)}, 4 * GIB),
    ("0::/user.slice\n", {"user.slice/memory.max": "max\n"}, None),
    ("4:memory:/\n", {"memory/memory.limit_in_bytes": "9223372036854771712\n"}, None),
])
def test_the_memory_limit_is_read_from_the_process_own_cgroup(tmp_path, own, files, expected):
    (tmp_path / "proc_cgroup").write_text(own)
    cgroup_tree(tmp_path / "fs", files)
    assert cgroup_memory_limit(tmp_path / "proc_cgroup", tmp_path / "fs") == expected
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert machine_memory_bytes(tmp_path / "proc_cgroup", tmp_path / "fs") == min(
        expected or physical, physical)


def test_no_readable_cgroup_means_the_machines_memory(tmp_path):
    assert cgroup_memory_limit(tmp_path / "missing", tmp_path) is None


# The smallest GIF: a 1 x 1 screen, two colours, one 1 x 1 frame.
GIF_HEAD = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
ONE_PIXEL_DATA = b"\x02\x02D\x01\x00"


def gif_frame(width, height, left=0, top=0):
    control = b"!\xf9\x04\x00\x00\x00\x00\x00"
    return control + b"," + struct.pack("<HHHHB", left, top, width, height, 0) + ONE_PIXEL_DATA


def test_a_gif_is_sized_by_every_frame_not_its_screen():
    lying = GIF_HEAD + gif_frame(1, 1) + gif_frame(3840, 2160) + b";"
    assert Image.open(io.BytesIO(lying)).size == (1, 1)  # what the header claims
    with pytest.raises(ServingError, match="image too large"):
        check_encoded_images("image_bytes", [lying], 3840 * 2160)
    assert check_encoded_images("image_bytes", [lying], 2 * 3840 * 2160) == [2 * 3840 * 2160]
    many = GIF_HEAD + gif_frame(1, 1) * 700 + b";"
    assert check_encoded_images("image_bytes", [many], 100_000) == [700 * 8 * 8]  # padded


def progressive_jpeg(photo, extra_scans=0):
    """A progressive JPEG, its last scan repeated `extra_scans` more times."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    last_scan = data.rindex(b"\xff\xda")
    return data[:-2] + data[last_scan:-2] * extra_scans + b"\xff\xd9"


def test_a_jpeg_with_thousands_of_scans_is_refused_before_decoding(rng):
    photo = random_photo(rng, 32, 48)
    assert jpeg_scan_count(progressive_jpeg(photo)) == 10
    assert check_encoded_images("image_bytes", [progressive_jpeg(photo)], 10_000) == [32 * 48]
    attack = progressive_jpeg(photo, extra_scans=3000)
    assert jpeg_scan_count(attack) == 3010
    with pytest.raises(ServingError, match=f"3010 scans \\(at most {MAX_JPEG_SCANS}"):
        check_encoded_images("image_bytes", [attack], 10_000)


def test_an_animated_webp_is_refused_and_a_still_one_admitted(rng):
    frames = [Image.fromarray(random_photo(rng, 24, 24)) for _ in range(3)]
    animated, still = io.BytesIO(), io.BytesIO()
    frames[0].save(animated, "WEBP", save_all=True, append_images=frames[1:])
    frames[0].save(still, "WEBP")
    with pytest.raises(ServingError, match="animated WebP"):
        check_encoded_images("image_bytes", [animated.getvalue()], 10_000)
    assert check_encoded_images("image_bytes", [still.getvalue()], 10_000) == [24 * 24]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_version_folder_holding_a_fifo_or_a_device_is_refused(tmp_path):
    version = tmp_path / "3"
    (version / "variables").mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"\0")
    check_version_files(version)
    os.mkfifo(version / "variables" / "variables.index")
    with pytest.raises(ValueError, match="not a regular file"):
        check_version_files(version)
    os.remove(version / "variables" / "variables.index")
    (version / "variables" / "variables.index").symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        check_version_files(version)


@pytest.mark.parametrize("method,headers,local_only,refused", [
    ("POST", {"Host": "127.0.0.1:8501"}, False, False),  # TF Serving's clients send no Origin
    ("POST", {"Host": "127.0.0.1:8501", "Origin": "http://127.0.0.1:8501"}, False, False),
    ("POST", {"Host": "127.0.0.1:8501", "Origin": "https://evil.example"}, False, True),
    ("POST", {"Host": "127.0.0.1:8501", "Origin": "null"}, False, True),
    ("GET", {"Host": "evil.example:8501"}, False, False),
    ("GET", {"Host": "evil.example:8501"}, True, True),  # DNS rebinding of a --web server
    ("GET", {"Host": "localhost:8501"}, True, False),
    ("POST", {"Host": "localhost:8501", "Origin": "http://localhost:8501"}, True, False),
])
def test_requests_from_another_sites_page_are_refused(method, headers, local_only, refused):
    if refused:
        with pytest.raises(ServingError) as raised:
            check_request_origin(method, headers, 8501, local_only)
        assert raised.value.code == "PERMISSION_DENIED"
    else:
        check_request_origin(method, headers, 8501, local_only)


def test_the_running_server_refuses_lying_images_and_foreign_pages(small_generator, tmp_path,
                                                                  rng):
    import base64
    import json

    from helpers import raw_http, served

    def predict(payload, extra=""):
        body = json.dumps({"signature_name": "serving_bytes",
                           "instances": [{"b64": base64.b64encode(payload).decode()}]}).encode()
        head = (f"POST /v1/models/cartoonizer:predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Length: {len(body)}\r\n{extra}")
        return raw_http(running, head, body)

    good = io.BytesIO()
    Image.fromarray(random_photo(rng, 24, 32)).save(good, "PNG")
    with served(small_generator, tmp_path, 256 * 256) as running:
        port = running.rest_port
        assert predict(GIF_HEAD + gif_frame(1, 1) + gif_frame(3840, 2160) + b";")[0] == 400
        assert predict(progressive_jpeg(random_photo(rng, 32, 48), 3000))[0] == 400
        assert predict(good.getvalue(), "Origin: https://evil.example\r\n")[0] == 403
        status, answer = predict(good.getvalue())
        assert status == 200, answer
        cartoon = answer["predictions"][0]["b64"]
        assert np.asarray(Image.open(io.BytesIO(base64.b64decode(cartoon)))).shape == (24, 32, 3)


def test_a_request_does_not_wait_for_its_run_while_holding_its_parse_share(small_generator,
                                                                           tmp_path, rng):
    """A budget that holds one request's JSON parsing or its run, not both at once: the parse
    share is given back before the run reserves its memory, so the request runs (it used to
    wait for memory it held itself, then get 429)."""
    import json

    from helpers import raw_http, served

    from cartoonize_tf.serving.core.memory_budget import JSON_BYTES_PER_BODY_BYTE, run_bytes

    body = json.dumps({"instances": random_photo(rng, 64, 64)[None].tolist()}).encode()
    parse_share, run_share = JSON_BYTES_PER_BODY_BYTE * len(body), run_bytes([64 * 64])
    budget = run_share + 4 * len(body) + 64 * 64 * 3 * 8
    assert max(parse_share, budget - run_share) < budget < parse_share + run_share
    with served(small_generator, tmp_path, 256 * 256, memory_budget_bytes=budget) as running:
        head = (f"POST /v1/models/cartoonizer:predict HTTP/1.1\r\nHost: x\r\n"
                f"Content-Length: {len(body)}\r\n")
        status, answer = raw_http(running, head, body)
        assert status == 200, answer
        assert running.predictor.budget.in_use == 0


def test_a_body_trickled_byte_by_byte_loses_its_slot_in_seconds(small_generator, tmp_path):
    """64 such connections used to hold every body-reading slot for 30 s each."""
    import socket
    import time

    from helpers import served

    from cartoonize_tf.serving.rest.connections import BODY_GRACE_SECONDS

    with served(small_generator, tmp_path, 256 * 256) as running:
        with socket.create_connection(("127.0.0.1", running.rest_port), timeout=30) as slow:
            slow.sendall(b"POST /v1/models/cartoonizer:predict HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Length: 1000\r\n\r\n{")
            start = time.monotonic()
            answer = b""
            while b"\r\n\r\n" not in answer:
                try:
                    slow.sendall(b" ")
                except OSError:
                    pass
                slow.settimeout(1.0)
                try:
                    answer += slow.recv(4096)
                except socket.timeout:
                    continue
            elapsed = time.monotonic() - start
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"slower than" in answer
        assert elapsed < BODY_GRACE_SECONDS + 3


def test_a_large_reservation_gives_its_memory_back_when_released(monkeypatch):
    """After a large run (a 4K GIF's frames, say), over gRPC as over REST, the allocator's
    free memory goes back to the system."""
    from cartoonize_tf.serving.core import memory_budget

    trims = []
    monkeypatch.setattr(memory_budget, "give_back_free_memory", lambda: trims.append(1))
    budget = memory_budget.MemoryBudget(1 << 30)
    memory_budget.release_giving_back(budget.reserve(1 << 20, "small"))
    assert trims == []
    memory_budget.release_giving_back(budget.reserve(memory_budget.TRIM_AFTER_BYTES, "large"))
    assert trims == [1] and budget.in_use == 0


def test_calls_that_never_send_their_message_do_not_starve_the_others(small_generator,
                                                                      tmp_path):
    """Issue 33's attack: gRPC Predict calls that send headers and never a message (a few KB
    on one connection) used to hold every call slot; health checks and good calls go on."""
    import time

    import grpc
    from helpers import predict_request, served, silent_predict_calls
    from tensorflow_serving.apis import (
        get_model_status_pb2,
        model_service_pb2_grpc,
        prediction_service_pb2_grpc,
    )

    with served(small_generator, tmp_path, 256 * 256) as running, \
            silent_predict_calls(running.grpc_port, 80), \
            grpc.insecure_channel(f"127.0.0.1:{running.grpc_port}",
                                  options=[("grpc.use_local_subchannel_pool", 1)]) as good:
        time.sleep(1.0)
        status = model_service_pb2_grpc.ModelServiceStub(good).GetModelStatus(
            get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "cartoonizer"}),
            timeout=10)
        assert status.model_version_status[0].version == 1
        answer = prediction_service_pb2_grpc.PredictionServiceStub(good).Predict(
            predict_request(images=np.full((1, 16, 16, 3), 90, np.uint8)), timeout=10)
        assert answer.outputs["cartoons"].tensor_shape.dim[1].size == 16


def png_bytes(height, width):
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_images_count_the_pixels_the_model_runs_each_side_padded_to_8():
    """A 1 x 1000 image runs on 8 x 1000 pixels: the header and the claimed shape say so."""
    assert check_encoded_images("image_bytes", [png_bytes(1, 1000)], 8000) == [8000]
    with pytest.raises(ServingError, match="8000 pixels .*padded"):
        check_encoded_images("image_bytes", [png_bytes(1, 1000)], 7999)
    check_claimed_shape("images", [2, 8, 496, 3], True, 8000, 1 << 20)  # 7,936
    with pytest.raises(ServingError, match="image too large"):
        check_claimed_shape("images", [1, 1, 1001, 3], True, 8000, 1 << 20)  # 8 x 1008


def test_a_request_holds_a_bounded_number_of_images():
    check_claimed_shape("images", [MAX_BATCH_IMAGES, 8, 8, 3], True, 1 << 30, 1 << 30)
    with pytest.raises(ServingError, match=f"takes at most {MAX_BATCH_IMAGES}"):
        check_claimed_shape("images", [MAX_BATCH_IMAGES + 1, 1, 1, 3], True, 1 << 30, 1 << 30)
    with pytest.raises(ServingError, match=f"takes at most {MAX_BATCH_IMAGES}"):
        check_encoded_images("image_bytes", [png_bytes(8, 8)] * (MAX_BATCH_IMAGES + 1), 1 << 30)


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.0.0.2", True),
                                           ("localhost", True), ("::1", True), ("[::1]", True),
                                           ("0.0.0.0", False), ("192.0.2.7", False),
                                           ("example.org", False)])
def test_serve_on_a_loopback_address_checks_host(host, loopback):
    """`serve` bound to a loopback address answers only requests for it (DNS rebinding)."""
    assert is_loopback(host) == loopback


@pytest.mark.parametrize("bound,port,host,answered", [
    ("127.0.0.2", 8501, "127.0.0.2:8501", True),  # the address it is bound to
    ("127.0.0.2", 8501, "LOCALHOST:8501", True),  # names are case-insensitive
    ("127.0.0.1", 80, "localhost", True),  # no port on port 80
    ("127.0.0.1", 8501, "localhost", False),
    ("127.0.0.2", 8501, "rebound.example:8501", False),
])
def test_a_loopback_server_answers_its_own_address_and_loopback_names(bound, port, host,
                                                                     answered):
    def check():
        check_request_origin("GET", {"Host": host}, port, True, bound)

    if answered:
        check()
    else:
        with pytest.raises(ServingError, match=f"requests for {bound}:{port} only"):
            check()


def png_chunk(kind, payload):
    import zlib

    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(
        ">I", zlib.crc32(kind + payload))


def test_a_png_whose_compressed_data_outlasts_its_pixels_is_refused(rng):
    """Deflated zeros after a 64 x 64 PNG's pixels would be inflated to the end: refused once
    its data inflates past the pixels' size, while the least compressible PNG of that size
    (stored) is admitted."""
    import zlib

    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG", compress_level=0)
    stored = buffer.getvalue()
    assert check_encoded_images("image_bytes", [stored], 1 << 20) == [64 * 64]
    deflated = zlib.compress(noise.tobytes() + bytes(20 << 20))  # the pixels, then 20 MB of 0
    head = stored[:stored.index(b"IDAT") - 4]
    bomb = head + png_chunk(b"IDAT", deflated) + png_chunk(b"IEND", b"")
    assert len(bomb) < 60_000  # small on the wire
    with pytest.raises(ServingError, match="inflates past what its 64x64 pixels need"):
        check_encoded_images("image_bytes", [bomb], 1 << 20)


class SilentCall:
    """A gRPC call's context whose message never comes (until cancelled)."""

    async def read(self):
        await asyncio.Event().wait()


def test_only_calls_reading_their_message_give_way_and_others_wait(monkeypatch):
    """Room for a new call's message is taken from calls still reading theirs, never from
    running requests: with the budget held by a run, a new call waits ROOM_WAIT_SECONDS and
    is refused, and the call that is reading is left alone."""
    from cartoonize_tf.serving.core.memory_budget import MemoryBudget
    from cartoonize_tf.serving.grpc import messages

    monkeypatch.setattr(messages, "ROOM_WAIT_SECONDS", 0.3)

    async def scenario():
        budget = MemoryBudget(300)
        waits = messages.MessageWaits(budget, 100)
        running = budget.reserve(200, "a running request")  # room for one message only
        reader = asyncio.ensure_future(waits.receive(SilentCall()))
        await asyncio.sleep(0.1)
        assert budget.in_use == 300 and len(waits.reading) == 1
        newcomer = asyncio.ensure_future(waits.receive(SilentCall()))
        await asyncio.sleep(0.2)
        # The newcomer took the reader's room: the reader gave way, the run kept its memory.
        assert reader.done() and "waited longest" in str(reader.exception())
        assert budget.in_use == 300 and len(waits.reading) == 1 and not newcomer.done()
        newcomer.cancel()
        await asyncio.gather(newcomer, return_exceptions=True)
        running.release()
        assert budget.in_use == 0

    asyncio.run(scenario())


def test_with_no_call_reading_a_new_call_waits_then_is_refused(monkeypatch):
    from cartoonize_tf.serving.core.memory_budget import MemoryBudget
    from cartoonize_tf.serving.grpc import messages

    monkeypatch.setattr(messages, "ROOM_WAIT_SECONDS", 0.3)

    async def scenario():
        budget = MemoryBudget(300)
        running = budget.reserve(250, "a running request")
        started = time.monotonic()
        with pytest.raises(ServingError, match="no memory is free for a call's message"):
            await messages.MessageWaits(budget, 100).receive(SilentCall())
        assert time.monotonic() - started >= 0.3 and budget.in_use == 250
        running.release()

    asyncio.run(scenario())
