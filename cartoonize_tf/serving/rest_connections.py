"""REST connections under hostile traffic: the connection cap (and who gives way at it), slow
heads, unparsable requests answered in TF Serving's JSON, and the listening socket."""

import json
import logging
import socket
import time

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

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
# Open REST connections at most by default, and file descriptors always left free below the
# process's limit (for gRPC connections, model files and health checks).
MAX_CONNECTIONS = 512
RESERVED_DESCRIPTORS = 128
# An accept error (such as too many open files) is logged at most once per this many seconds.
ACCEPT_ERROR_LOG_SECONDS = 10.0
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

    # The request whose body is being read, if any (set by RestServer.read_body); whether the
    # client has closed its sending side, and whether that cut a body short.
    body_request = None
    client_closed = False
    body_truncated = False
    opened_at = 0.0

    refused = False

    def connection_made(self, transport):
        server = self._manager
        self.opened_at = time.monotonic()
        if len(server.connections) >= server.max_connections:
            waiting = [c for c in server.connections if not c.requests_pending()]
            if waiting:
                # At the cap, the oldest connection still without a complete request head (a
                # slow-header flood's, or an idle keep-alive) makes room: a client that sends
                # its request at once wins over one trickling its head.
                min(waiting, key=lambda c: c.opened_at).force_close()
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

    def data_received(self, data):
        if not self.refused:
            super().data_received(data)

    def eof_received(self):
        if self.refused:
            return False
        self.client_closed = True
        request = self.body_request
        if request is not None and not request.content.is_eof():
            self.body_truncated = True
            request.content.feed_eof()
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
