"""Serving the sandbox: werkzeug's threaded server, logging request paths without their query strings."""

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.app import create_app
from sandbox.config import SandboxConfig


class PathOnlyRequestHandler(WSGIRequestHandler):
    """Access log lines without query strings: a push redirect carries receipts and a JWS there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command, path, code)


def make_sandbox_server(config: SandboxConfig, host: str, port: int) -> BaseWSGIServer:
    """A threaded server for a fresh sandbox app; port 0 picks a free port (see server.server_port)."""
    return make_server(host, port, create_app(config), threaded=True, request_handler=PathOnlyRequestHandler)
