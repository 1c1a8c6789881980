"""Requests that a web page on another site makes through the user's browser are refused.

A page anywhere can make the browser POST to `http://127.0.0.1:8501/...` (a "simple"
cross-origin request, `text/plain`, needs no preflight), and through DNS rebinding
can even read the answers of a server bound to the loopback address. So:

- a POST whose `Origin` is not the server itself is refused (browsers send `Origin`
  on every cross-origin POST; TF Serving's clients and the project's own page are
  unaffected: the former send none, the latter its own);
- a server bound to a loopback address (`serve`'s default, and `serve --web`) answers
  only requests whose `Host` names the loopback address it listens on: a page whose
  name was rebound to 127.0.0.1 sends its own name.
"""

import ipaddress
from urllib.parse import urlsplit

from cartoonize_tf.serving.core.errors import ServingError

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host):
    """Whether `host` (an address or a name) is this machine's loopback."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def local_hosts(port, bound_host="127.0.0.1"):
    """The Host values a loopback-bound server answers: its address or a loopback name with
    its port (alone on port 80, as clients then send it), lower case."""
    names = {bound_host.lower(), *LOOPBACK_NAMES}
    return {f"{name}:{port}" for name in names} | (names if port == 80 else set())


def check_request_origin(method, headers, port, local_only, bound_host="127.0.0.1"):
    """Raises ServingError PERMISSION_DENIED for a request another site's page made."""
    host = headers.get("Host", "")
    if local_only and host.lower() not in local_hosts(port, bound_host):
        raise ServingError("PERMISSION_DENIED", f"this server answers requests for "
                                                f"{bound_host}:{port} only (Host {host[:100]!r}); "
                                                "behind a proxy, forward that Host")
    origin = headers.get("Origin")
    if method == "POST" and origin is not None and urlsplit(origin).netloc != host:
        raise ServingError("PERMISSION_DENIED", f"a cross-origin POST (from {origin[:100]!r}) is "
                                                "refused; call the API from a server or a "
                                                "command line, not another site's page")
