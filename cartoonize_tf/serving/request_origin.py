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

from cartoonize_tf.serving.errors import ServingError

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host):
    """Whether `host` (an address or a name) is this machine's loopback."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_request_origin(method, headers, port, local_only):
    """Raises ServingError PERMISSION_DENIED for a request another site's page made."""
    host = headers.get("Host", "")
    if local_only and host not in {f"{name}:{port}" for name in LOOPBACK_NAMES}:
        raise ServingError("PERMISSION_DENIED", f"this server answers requests for "
                                                f"127.0.0.1:{port} only (Host {host[:100]!r})")
    origin = headers.get("Origin")
    if method == "POST" and origin is not None and urlsplit(origin).netloc != host:
        raise ServingError("PERMISSION_DENIED", f"a cross-origin POST (from {origin[:100]!r}) is "
                                                "refused; call the API from a server or a "
                                                "command line, not another site's page")
