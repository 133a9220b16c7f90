"""A real HTTP server standing in for Odoo (the demo and the phase-3 self-tests).

`odoo-bin` (this file, run as a script) answers GET /web/health with Odoo's
`{"status": "pass"}` and /web/login with a page, writes its pid to the pidfile
it is given, and runs until terminated. `OdooServer` starts and stops it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _serve(port: int, pidfile: str, health_status: int) -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/web/health"):
                body, code = b'{"status": "pass"}', health_status
            elif self.path.startswith("/web/login"):
                body, code = b"<html><body>Odoo login</body></html>", 200
            else:
                body, code = b"not found", 404
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", port), Handler)
    Path(pidfile).write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


def wait_past(moment: dt.datetime) -> None:
    """Sleep until the wall clock is past `moment`: a restart must be visibly after phase 0."""
    while (delta := (moment - dt.datetime.now(dt.UTC)).total_seconds()) > 0:
        time.sleep(min(delta + 0.01, 0.5))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """The stand-in Odoo process: `python <dir>/odoo-bin --port N --pidfile F`."""

    def __init__(self, workdir: Path, health_status: int = 200) -> None:
        self.workdir = workdir
        self.pidfile = workdir / "odoo.pid"
        self.port = free_port()
        self.script = workdir / "odoo-bin"  # the process name the checks look for
        self.health_status = health_status
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/web/health"

    def start(self) -> OdooServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE, self.script)
        self.pidfile.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, str(self.script), str(self.port), str(self.pidfile), str(self.health_status)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # ready = pidfile written after the socket is bound
        for _ in range(500):
            if self.pidfile.exists() and self.pidfile.read_text().strip():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"stand-in server exited with {self.proc.returncode}")
            time.sleep(0.01)
        raise RuntimeError("stand-in server did not write its pidfile")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def service_config(self) -> dict[str, object]:
        return {
            "manager": "pidfile",
            "pidfile": str(self.pidfile),
            "process_name": "odoo-bin",
            "health_url": self.health_url,
            "http_timeout_s": 5,
        }


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
