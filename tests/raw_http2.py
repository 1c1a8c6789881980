"""A bare HTTP/2 client for one attack no gRPC library can make: Predict calls that send all but
the last byte of their message and hold it (tests/test_hostile_traffic.py and
benchmarks/hostile_traffic.py).

It speaks just enough HTTP/2: the preface, SETTINGS (their initial window heeded and acked),
HEADERS as HPACK literals, DATA within the connection's and each stream's flow-control
windows, WINDOW_UPDATE, PING; a stream the server resets or answers counts as ended.
"""

import select
import socket
import struct
import time

PREDICT_PATH = "/tensorflow.serving.PredictionService/Predict"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 6, 7, 8
END_HEADERS, ACK = 0x4, 0x1
INITIAL_WINDOW_SIZE = 4  # the SETTINGS parameter
MAX_FRAME = 16384


def frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") \
        + payload


def header_block(authority):
    """HPACK: each header a literal without indexing, no Huffman coding."""
    def string(text):
        data = text.encode()
        return bytes([len(data)]) + data

    fields = ((":method", "POST"), (":scheme", "http"), (":path", PREDICT_PATH),
              (":authority", authority), ("content-type", "application/grpc"), ("te", "trailers"))
    return b"".join(b"\x00" + string(name) + string(value) for name, value in fields)


class Connection:
    """One HTTP/2 connection to a gRPC server, its flow-control windows tracked."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0))
        self.authority = f"{host}:{port}"
        self.buffer = b""
        self.window = self.initial_window = 65535
        self.stream_windows = {}
        self.ended = set()
        self.closed = False

    def open_stream(self, stream):
        self.sock.sendall(frame(HEADERS, END_HEADERS, stream, header_block(self.authority)))
        self.stream_windows[stream] = self.initial_window

    def send(self, stream, data):
        """Sends as much of `data` as the windows allow; returns how many bytes."""
        size = min(len(data), MAX_FRAME, self.window, self.stream_windows[stream])
        if size <= 0 or stream in self.ended or self.closed:
            return 0
        self.sock.sendall(frame(DATA, 0, stream, bytes(data[:size])))
        self.window -= size
        self.stream_windows[stream] -= size
        return size

    def read(self, timeout):
        """Handles what the server sent, waiting up to `timeout` s for the first of it."""
        while select.select([self.sock], [], [], timeout)[0]:
            timeout = 0.0
            data = self.sock.recv(1 << 16)
            if not data:
                self.closed = True
                return
            self.buffer += data
            while len(self.buffer) >= 9 and len(self.buffer) >= 9 + int.from_bytes(
                    self.buffer[:3], "big"):
                length = int.from_bytes(self.buffer[:3], "big")
                kind, flags = self.buffer[3], self.buffer[4]
                stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
                payload, self.buffer = self.buffer[9:9 + length], self.buffer[9 + length:]
                self.handle(kind, flags, stream, payload)

    def handle(self, kind, flags, stream, payload):
        if kind == SETTINGS and not flags & ACK:
            for offset in range(0, len(payload), 6):
                key, value = struct.unpack(">HI", payload[offset:offset + 6])
                if key == INITIAL_WINDOW_SIZE:
                    for open_stream in self.stream_windows:
                        self.stream_windows[open_stream] += value - self.initial_window
                    self.initial_window = value
            self.sock.sendall(frame(SETTINGS, ACK, 0))
        elif kind == WINDOW_UPDATE:
            increment = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            if stream == 0:
                self.window += increment
            elif stream in self.stream_windows:
                self.stream_windows[stream] += increment
        elif kind == PING and not flags & ACK:
            self.sock.sendall(frame(PING, ACK, 0, payload))
        elif kind in (RST_STREAM, HEADERS) and stream:
            self.ended.add(stream)
        elif kind == GOAWAY:
            self.closed = True

    def close(self):
        self.sock.close()


def hold_half_sent_messages(port, streams, message_bytes, seconds, while_held,
                            connections=2, host="127.0.0.1"):
    """`streams` Predict calls over `connections` connections, each sending all but the last
    byte of a `message_bytes` message for `seconds`; then `while_held()` runs with the calls
    still open, and everything is closed. Returns (bytes the server took, calls it ended,
    what `while_held` returned)."""
    opened = [Connection(host, port) for _ in range(connections)]
    for connection in opened:
        connection.read(0.2)
    calls = []
    for index in range(streams):
        connection = opened[index % connections]
        stream = 1 + 2 * (index // connections)
        connection.open_stream(stream)
        calls.append((connection, stream))
    # The gRPC message: a 5-byte prefix (not compressed, its length), then the bytes.
    message = memoryview(struct.pack(">BI", 0, message_bytes) + bytes(message_bytes - 1))
    sent = [0] * streams
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            moved = False
            for index, (connection, stream) in enumerate(calls):
                piece = connection.send(stream, message[sent[index]:])
                sent[index] += piece
                moved = moved or piece > 0
            for connection in opened:
                connection.read(0.0 if moved else 0.05)
        held = while_held()
    finally:
        for connection in opened:
            connection.close()
    return sum(sent), sum(len(connection.ended) for connection in opened), held
