"""python -m sandbox --host 127.0.0.1 --port 8001 --keys-dir .demo/keys --portal-origin http://127.0.0.1:8000"""

import argparse
import ipaddress
import sys
from collections.abc import Sequence
from pathlib import Path

from sandbox.config import SandboxConfig
from sandbox.keys import ensure_demo_keys
from sandbox.server import make_sandbox_server


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="MDES Token Connect sandbox")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001)")
    parser.add_argument("--keys-dir", type=Path, default=Path(".demo/keys"), help="where demo keys live")
    parser.add_argument("--portal-origin", default=None, help="the portal's origin, e.g. http://127.0.0.1:8000")
    parser.add_argument("--public-origin", default=None, help="origin put in push URIs (default http://<host>:<port>)")
    parser.add_argument(
        "--issuer-services-url",
        default=None,
        help="the issuer's services the simulated wallet asks, e.g. http://127.0.0.1:8000/mdes-issuer/1/0",
    )
    parser.add_argument("--timestamp-window", type=int, default=300, help="OAuth timestamp tolerance in seconds")
    parser.add_argument(
        "--request-error-status",
        type=int,
        default=400,
        choices=(200, 400, 422),
        help="HTTP status of request-level input errors (MDES documents both 4xx and errors inside a 200)",
    )
    return parser.parse_args(argv)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    keys = ensure_demo_keys(args.keys_dir)
    origin = args.public_origin or f"http://{args.host}:{args.port}"
    config = SandboxConfig(
        keys=keys,
        portal_origin=args.portal_origin,
        public_origin=origin,
        timestamp_window_seconds=args.timestamp_window,
        request_error_status=args.request_error_status,
        issuer_services_url=args.issuer_services_url,
    )
    server = make_sandbox_server(config, args.host, args.port)
    if not _is_loopback(args.host):
        print("warning: the control API has no authentication; keep the sandbox on loopback", file=sys.stderr)
    print(f"MDES sandbox on {origin} (Token Connect base URL {origin}/mdes)", flush=True)
    print(f"  consumer key: {keys.consumer_key}", flush=True)
    print(f"  keys: {keys.directory.resolve()}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
