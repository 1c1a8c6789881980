"""The `serve` command: TF Serving's gRPC and REST APIs for a SavedModel base path, on one machine."""

import signal
import threading

from cartoonize_tf.cli.defaults import DEFAULT_SAVED_MODEL_BASE, default_path
from cartoonize_tf.cli.errors import CommandError
from cartoonize_tf.cli.help_format import DefaultsHelpFormatter
from cartoonize_tf.serving.core.defaults import MAX_CONNECTIONS
from cartoonize_tf.utils.extras import require_extra


def add_serve_parser(subparsers):
    parser = subparsers.add_parser(
        "serve", help="serve a SavedModel with TF Serving's gRPC and REST APIs",
        description="Answer TF Serving's gRPC (PredictionService.Predict, GetModelMetadata, "
                    "ModelService.GetModelStatus) and REST (/v1/models/...) requests for the "
                    "newest numeric version under --model-base-path, picking up new versions "
                    "without a restart. Clients written for TF Serving work unchanged. The "
                    "REST port also serves a web page at / where photos can be dropped and "
                    "their cartoons downloaded; --web opens it.",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--model-base-path",
                        default=str(default_path(".", DEFAULT_SAVED_MODEL_BASE)),
                        help="folder of numeric version folders (<base>/<version>/"
                             "saved_model.pb), as 'cartoonize export' writes; default: the "
                             "shipped model's SavedModel")
    parser.add_argument("--model-name", default="cartoonizer",
                        help="the name clients ask for (model_spec.name, /v1/models/NAME)")
    parser.add_argument("--grpc-port", type=int, default=8500,
                        help="gRPC port (TF Serving's PredictionService); 0: any free port")
    parser.add_argument("--rest-port", type=int, default=8501,
                        help="REST port (/v1/models/..., and the web page at /); 0: any free "
                             "port")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on; 0.0.0.0 for every interface (in a container). "
                             "On a loopback address REST answers only requests whose Host names "
                             "it (127.0.0.1, localhost or [::1] and the port), so no web page "
                             "can reach it by rebinding its own name")
    parser.add_argument("--workers", type=int, default=2,
                        help="requests run at once; the rest queue")
    parser.add_argument("--max-message-mb", type=int, default=64,
                        help="largest gRPC message or REST body")
    parser.add_argument("--poll-seconds", type=float, default=2.0,
                        help="how often to look for a new version")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="largest height * width of a request's image, checked from its "
                             "claimed shape or header before anything is allocated; default: "
                             "the cap the served version was exported with")
    parser.add_argument("--memory-budget-mb", type=int, default=None,
                        help="memory all requests in flight may use together, estimated from "
                             "each request's claimed sizes before it runs; a request waits for "
                             "room (up to its deadline, or 30 s) or is refused with "
                             "RESOURCE_EXHAUSTED (REST 429); default: three quarters of this machine's "
                             "(or its cgroup's) memory")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS,
                        help="open REST connections at most (lowered to keep file descriptors "
                             "free for gRPC); more are answered 503 and closed")
    parser.add_argument("--web", action="store_true",
                        help="open the web page in this machine's browser (one user: the "
                             "server stays on 127.0.0.1)")
    parser.add_argument("--grace-seconds", type=float, default=30.0,
                        help="on SIGTERM or Ctrl-C, how long in-flight requests may finish")
    parser.set_defaults(handler=serve_command)


def serve_command(args):
    require_extra("serve", "cartoonize serve")
    from cartoonize_tf.serving.rest.request_origin import is_loopback
    from cartoonize_tf.serving.server import start_server

    if args.web and args.host != "127.0.0.1":
        raise CommandError("--web is for one user on this machine and listens on 127.0.0.1; "
                           "leave --host out, or drop --web and open http://HOST:PORT/ yourself")
    for name in ("memory_budget_mb", "max_connections", "workers", "max_message_mb"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    budget = None if args.memory_budget_mb is None else args.memory_budget_mb << 20
    try:
        server = start_server(args.model_base_path, args.model_name, args.grpc_port,
                              args.rest_port, args.host, args.workers,
                              args.max_message_mb << 20, args.poll_seconds, args.max_pixels,
                              memory_budget_bytes=budget, max_connections=args.max_connections,
                              local_only=is_loopback(args.host))
    except (OSError, RuntimeError) as error:  # no model, a port in use
        raise CommandError(error) from None
    print(f"Serving {args.model_name} version {server.registry.current.version} from "
          f"{args.model_base_path}: gRPC on {args.host}:{server.grpc_port}, REST on "
          f"http://{args.host}:{server.rest_port}/v1/models/{args.model_name}", flush=True)
    page = f"http://{args.host}:{server.rest_port}/"
    print(f"Web page: {page}", flush=True)
    if args.web:
        import webbrowser

        if not webbrowser.open(page):
            print("No browser could be started here: open the address above yourself",
                  flush=True)
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    print(f"Stopping: no new requests; in-flight ones have {args.grace_seconds:g} s to finish",
          flush=True)
    drained = server.stop(grace=args.grace_seconds)
    print("Stopped" if drained else "Stopped (some requests were cut off at the grace period)",
          flush=True)
    return 0
