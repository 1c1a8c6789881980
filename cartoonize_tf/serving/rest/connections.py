"""REST connections under hostile traffic: the connection cap (and who gives way at it), slow
heads, bodies and readers, unparsable requests answered in TF Serving's JSON, and the listening
socket."""

import json
import logging
import socket
import time

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from cartoonize_tf.serving.core.defaults import MAX_CONNECTIONS

logger = logging.getLogger(__name__)

HTTP_STATUS = {"INVALID_ARGUMENT": 400, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
               "RESOURCE_EXHAUSTED": 429,
               "DEADLINE_EXCEEDED": 504, "INTERNAL": 500, "UNAVAILABLE": 503,
               "CANCELLED": 499}
# Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG = 1024
# Seconds a connection may take to send a complete request head, counted from its opening or
# from the end of its last answer (so also the keep-alive idle timeout).
HEAD_TIMEOUT = 15.0
# File descriptors always left free below the process's limit (for gRPC connections, model
# files and health checks).
RESERVED_DESCRIPTORS = 128
# An accept error (such as too many open files) is logged at most once per this many seconds.
ACCEPT_ERROR_LOG_SECONDS = 10.0
# An answer must be read at a pace too, once the socket's buffers are full: n bytes within
# WRITE_TIMEOUT + n / MIN_ANSWER_RATE of the pause (checked every WRITE_CHECK_SECONDS), else the
# connection is dropped; one paused for WRITE_STALL_SECONDS may give way at the connection cap.
WRITE_TIMEOUT = 10.0
MIN_ANSWER_RATE = 64 << 10  # bytes per second
WRITE_CHECK_SECONDS = 0.5
WRITE_STALL_SECONDS = 2.0
# A body must keep a pace: n bytes within BODY_GRACE_SECONDS + n / MIN_BODY_RATE of its head
# (a phone's 100 KiB/s upload keeps it; a byte every few seconds loses its slot in seconds).
BODY_GRACE_SECONDS = 2.0
MIN_BODY_RATE = 64 << 10  # bytes per second
# A connection over the cap gets this answer and is closed REFUSED_LINGER_SECONDS later.
REFUSED_LINGER_SECONDS = 1.0
OVERLOADED_BODY = b'{"error": "too many connections; try again in a moment"}\n'
OVERLOADED = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
              % (len(OVERLOADED_BODY), OVERLOADED_BODY))

def json_response(status, body, close=False):
    response = web.Response(status=status, body=json.dumps(body).encode(),
                            content_type="application/json")
    if close:
        response.force_close()
    return response


def error_response(error, close=False):
    """TF Serving's error answer: the HTTP status of the gRPC code and `{"error": message}`."""
    return json_response(HTTP_STATUS.get(error.code, 500), {"error": error.message}, close)


class BodyGaveWay(Exception):
    """Raised in a body's reader when it gives way to another (the least progressed does)."""


class BodyProgress:
    """A request body being read: what has arrived since its head, measured against the pace."""

    def __init__(self, request):
        self.request = request
        self.start = time.monotonic()
        self.received = 0

    def seconds_ahead(self, now=None):
        """How far ahead of the slowest allowed pace the body is (negative: behind it)."""
        now = time.monotonic() if now is None else now
        return BODY_GRACE_SECONDS + self.received / MIN_BODY_RATE - (now - self.start)

    def give_way(self, why):
        """Stops the reading of this body: its reader raises BodyGaveWay(why)."""
        self.request.content.set_exception(BodyGaveWay(why))


def connection_cap(requested=MAX_CONNECTIONS):
    """`requested`, lowered so RESERVED_DESCRIPTORS stay free under the open-file limit (whose
    soft value is first raised to the hard one)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, soft - RESERVED_DESCRIPTORS))


class RateLimitedLoopErrors:
    """The event loop's exception handler: an accept error is logged once per
    ACCEPT_ERROR_LOG_SECONDS with the count of those not shown; anything else as asyncio would."""

    def __init__(self):
        self.last_logged = -ACCEPT_ERROR_LOG_SECONDS
        self.suppressed = 0

    def __call__(self, loop, context):
        if not context.get("message", "").startswith("socket.accept()"):
            loop.default_exception_handler(context)
            return
        now = time.monotonic()
        if now - self.last_logged < ACCEPT_ERROR_LOG_SECONDS:
            self.suppressed += 1
            return
        extra = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
        logger.error("REST cannot accept connections: %s%s", context.get("exception"), extra)
        self.last_logged, self.suppressed = now, 0


class JsonErrorProtocol(RequestHandler):
    """aiohttp's connection handler; a request it cannot parse is answered in TF Serving's JSON.

    aiohttp answers an unparsable request line or header (a negative or
    non-numeric Content-Length, a bad chunk size, an over-long header) itself,
    in plain text; here the same status comes with `{"error": "..."}`. A client
    that half-closes its side before its body is complete is answered 400 too
    (aiohttp would drop the connection unanswered).
    """

    # The BodyProgress of the body being read, if any (set by RestServer.read_body); whether the
    # client has closed its sending side, and whether that cut a body short; while the
    # transport's buffer is too full to take more of the answer, since when and how much it
    # held then (None: writing is not paused); whether this connection was chosen to give way.
    body = None
    client_closed = False
    body_truncated = False
    opened_at = 0.0
    write_paused_at = None
    write_buffered = 0
    write_pause = None  # a token per pause, so a check outlives neither its pause nor resume
    evicted = False

    refused = False

    def connection_made(self, transport):
        server = self._manager
        self.opened_at = time.monotonic()
        if len(server.connections) >= server.max_connections:
            ranked = [(c.eviction_rank(self.opened_at), c) for c in server.connections]
            ranked = [(rank, c) for rank, c in ranked if rank is not None]
            if ranked:
                # At the cap, the connection that has progressed least makes room: a client
                # that sends its request at once wins over one trickling its head or body, or
                # one that does not read its answers.
                min(ranked, key=lambda pair: pair[0])[1].give_way()
                super().connection_made(transport)
                return
            # Answered at once and closed a moment later (closing with the client's request
            # unread would reset the connection before it reads the answer); nothing is parsed.
            self.refused = True
            self._manager = None  # so connection_lost has nothing to undo
            transport.write(OVERLOADED)
            transport.write_eof()
            self._loop.call_later(REFUSED_LINGER_SECONDS, transport.close)
            return
        super().connection_made(transport)

    def eviction_rank(self, now):
        """Lower gives way first at the connection cap; None while its request is handled (a
        model run, a metadata answer), which is never cut short for a newcomer.

        First the connections without a complete request head (a slow-header flood's, an idle
        keep-alive), oldest first; then those whose client does not read its answer, stalled
        longest first; then those sending a body, furthest behind its pace first.
        """
        if self.evicted:
            return None  # leaving already
        if not self.requests_pending():
            return (0, self.opened_at)
        if self.write_paused_at is not None and self.transport is not None and \
                now - self.write_paused_at >= WRITE_STALL_SECONDS:
            return (1, self.answer_seconds_ahead(now))
        if self.body is not None:
            return (2, self.body.seconds_ahead(now))
        return None

    def give_way(self):
        """Closes this connection for a newcomer (the request of a body reader is answered)."""
        self.evicted = True
        if not self.requests_pending():
            self.force_close()
        elif self.write_paused_at is not None:
            self.transport.abort()
        else:
            self.body.give_way("the server is at its connection cap and this body came "
                               "slowest; send it again")

    def pause_writing(self):
        super().pause_writing()
        self.write_paused_at = time.monotonic()
        self.write_buffered = self.transport.get_write_buffer_size()
        self.write_pause = pause = object()
        self._loop.call_later(WRITE_CHECK_SECONDS, self.check_writing, pause)

    def resume_writing(self):
        self.write_paused_at = self.write_pause = None
        super().resume_writing()

    def answer_seconds_ahead(self, now):
        """How far ahead of the slowest allowed reading pace the client is (negative: behind)."""
        drained = self.write_buffered - self.transport.get_write_buffer_size()
        return WRITE_TIMEOUT + drained / MIN_ANSWER_RATE - (now - self.write_paused_at)

    def check_writing(self, pause):
        """While writing stays paused (the `pause` that scheduled it), drops the connection
        once its client reads the answer slower than the pace allows."""
        if pause is not self.write_pause or self.transport is None:
            return  # resumed, or paused anew (with a check of its own)
        if self.answer_seconds_ahead(time.monotonic()) < 0:
            logger.debug("REST client read its answer slower than %d KiB/s; dropped",
                         MIN_ANSWER_RATE >> 10)
            self.transport.abort()
            return
        self._loop.call_later(WRITE_CHECK_SECONDS, self.check_writing, pause)

    def data_received(self, data):
        if not self.refused:
            super().data_received(data)

    def eof_received(self):
        if self.refused:
            return False
        self.client_closed = True
        if self.body is not None and not self.body.request.content.is_eof():
            self.body_truncated = True
            self.body.request.content.feed_eof()
        if not self.requests_pending():
            self.force_close()  # idle between requests: nothing to answer, hang up
            return None
        return True  # keeps the sending side open; the last answer closes it (RestServer.handle)

    def handle_error(self, request, status=500, exc=None, message=None):
        if request.writer.output_size > 0:
            raise ConnectionError("the response has begun; the error cannot be sent")
        if status >= 500:
            self.log_exception("REST request failed", exc_info=exc)
            text = "internal error"
        else:
            logger.debug("malformed REST request: %s", message or exc)
            text = " ".join(str(message or exc or "malformed request").split())[:300]
        return json_response(status, {"error": f"malformed HTTP request: {text}"}, close=True)

    def requests_pending(self):
        """Whether a request is being answered or waits its turn (aiohttp's `start` loop waits
        on `_waiter` only when it has neither)."""
        return getattr(self, "_waiter", None) is None or self.queued()

    def queued(self):
        """Whether parsed requests wait behind the current one (pipelining)."""
        return bool(getattr(self, "_messages", ()))


class JsonErrorServer(web.Server):
    """aiohttp's low-level server with JsonErrorProtocol connections, at most
    `max_connections` of them open (more are answered 503 and closed)."""

    def __init__(self, handler, max_connections, **kwargs):
        super().__init__(handler, **kwargs)
        self.max_connections = max_connections

    def __call__(self):
        return JsonErrorProtocol(self, loop=self._loop, **self._kwargs)


def listening_socket(host, port, backlog=LISTEN_BACKLOG):
    """A bound, listening TCP socket; OSError when the port is in use (no port sharing)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise OSError(f"cannot listen for REST on {host}:{port}: {error}") from None
    try:
        # SO_REUSEADDR lets a restarted server bind past TIME_WAIT; unlike SO_REUSEPORT it
        # never lets two servers listen on one port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen for REST on {host}:{port} ({error.strerror or error}); "
                      "choose another --rest-port") from None
    return sock
