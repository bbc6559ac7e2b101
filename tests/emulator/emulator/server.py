"""The HTTP server: werkzeug's threaded server with moto's request handler,
extended so that a fault rule can drop the TCP connection."""

from __future__ import annotations

import socket
import struct
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from .front import DROP_CONNECTION

ALLOWED_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}


class RequestHandler(MotoRequestHandler):
    verbose = False

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[DROP_CONNECTION] = self._drop_connection
        return environ

    def _drop_connection(self, reset: bool) -> None:
        """Ends the connection without a response: FIN, or RST with ``reset``.

        The application raises ConnectionAbortedError right after this call,
        which werkzeug treats as a dropped connection and writes nothing.
        """
        self.close_connection = True
        sock = self.connection
        if reset:
            # Linger 0 makes the close send RST instead of FIN. The descriptor
            # closes once the handler's file objects are closed too.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        else:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        if self.verbose:
            super().log_request(code, size)


def create_server(app: Any, host: str, port: int, verbose: bool = False) -> BaseWSGIServer:
    """Binds host:port (port 0 picks a free port); only loopback is allowed."""
    if host not in ALLOWED_HOSTS:
        raise ValueError(f"refusing to listen on {host!r}: the emulator binds 127.0.0.1 (or localhost) only")

    class Handler(RequestHandler):
        pass

    Handler.verbose = verbose
    return make_server(ALLOWED_HOSTS[host], port, app, threaded=True, request_handler=Handler)
