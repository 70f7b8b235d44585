"""Real git servers on 127.0.0.1 for remote tests: ``git daemon`` and ``git http-backend``.

Both serve every bare repository under a root directory, with pushes enabled.
The HTTP server is a small threaded CGI gateway in front of the real
``git http-backend`` (smart HTTP), so what answers is git itself, never dulwich.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["free_port", "git_daemon", "git_http_backend", "hostile_git_server", "http_backend_path"]

_HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"git daemon exited early with {proc.returncode}")
        try:
            with socket.create_connection((_HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"git daemon did not listen on {_HOST}:{port} within {timeout}s")


@contextmanager
def git_daemon(root: Path, log: Path | None = None) -> Iterator[str]:
    """Serve the bare repositories under ``root``; yield the base URL ``git://127.0.0.1:PORT``.

    ``log``: write git's verbose log there (one ``Request upload-pack`` line per fetch served).
    """
    port = free_port()
    log_file = open(log, "wb") if log is not None else None  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            f"--base-path={root}",
            f"--listen={_HOST}",
            f"--port={port}",
            "--informative-errors",
            *(["--verbose"] if log is not None else []),
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log_file if log_file is not None else subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, proc)
        yield f"git://{_HOST}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_file is not None:
            log_file.close()


def fetches_served(log: Path) -> int:
    """How many fetches (upload-pack requests) a ``git_daemon(root, log)`` served so far."""
    return log.read_bytes().count(b"Request upload-pack")


def http_backend_path() -> Path | None:
    """The real ``git-http-backend`` program, or None when this git has none."""
    git = shutil.which("git")
    if git is None:
        return None
    exec_path = subprocess.run([git, "--exec-path"], capture_output=True, text=True).stdout.strip()
    backend = Path(exec_path) / "git-http-backend"
    return backend if backend.exists() else None


def _read_chunked(stream: object) -> bytes:
    body = bytearray()
    readline = stream.readline  # type: ignore[attr-defined]
    read = stream.read  # type: ignore[attr-defined]
    while True:
        size = int(readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        body += read(size)
        read(2)  # the CRLF after each chunk


def _cgi_handler(root: Path, backend: Path) -> type[BaseHTTPRequestHandler]:
    class GitCGIHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            self._run_backend(b"")

        def do_POST(self) -> None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = _read_chunked(self.rfile)
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._run_backend(body)

        def _run_backend(self, body: bytes) -> None:
            path, _, query = self.path.partition("?")
            env = {
                "PATH": os.environ.get("PATH", ""),
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REMOTE_USER": "gitpet-test",  # http-backend allows receive-pack for authenticated users
                "REMOTE_ADDR": _HOST,
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
            }
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            if self.headers.get("Git-Protocol"):
                env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
            proc = subprocess.run([str(backend)], input=body, capture_output=True, env=env)
            head, _, payload = proc.stdout.partition(b"\r\n\r\n")
            status = 200
            headers: list[tuple[str, str]] = []
            for line in head.split(b"\r\n"):
                key, _, value = line.decode("latin-1").partition(":")
                if key.lower() == "status":
                    status = int(value.strip().split()[0])
                elif key:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return GitCGIHandler


@contextmanager
def git_http_backend(root: Path) -> Iterator[str]:
    """Serve the bare repositories under ``root`` by smart HTTP; yield ``http://127.0.0.1:PORT``."""
    backend = http_backend_path()
    if backend is None:
        raise RuntimeError("git-http-backend is not installed")
    server = ThreadingHTTPServer((_HOST, 0), _cgi_handler(root, backend))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _pkt_line(data: bytes | None) -> bytes:
    return b"0000" if data is None else b"%04x" % (len(data) + 4) + data


def _read_pkt_line(conn: socket.socket) -> bytes | None:
    size = int(_recv_exactly(conn, 4), 16)
    return None if size == 0 else _recv_exactly(conn, size - 4)


def _recv_exactly(conn: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the client hung up")
        data += chunk
    return data


@contextmanager
def hostile_git_server(refs: list[tuple[bytes, bytes]], pack: bytes) -> Iterator[str]:
    """A git:// server that says what a hostile remote says: it advertises ``refs``
    (``(name, hex id)``, any bytes) and answers every fetch with ``pack``, whatever was asked.

    Protocol v0 without side-band or multi-ack, which every client speaks; yields
    the URL ``git://127.0.0.1:PORT/hostile.git``."""
    listener = socket.socket()
    listener.bind((_HOST, 0))
    listener.listen()
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stopped = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            try:
                _read_pkt_line(conn)  # git-upload-pack /path\0host=...
                advertised = b""
                for index, (name, sha) in enumerate(refs):
                    caps = b"\0ofs-delta agent=hostile/1" if index == 0 else b""
                    advertised += _pkt_line(sha + b" " + name + caps + b"\n")
                conn.sendall(advertised + _pkt_line(None))
                while True:
                    line = _read_pkt_line(conn)
                    if line is not None and line.strip() == b"done":
                        break
                conn.sendall(_pkt_line(b"NAK\n") + pack)
            except (ConnectionError, ValueError, OSError):
                return  # the client only listed refs, or gave up

    def accept() -> None:
        while not stopped.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(30)
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"git://{_HOST}:{port}/hostile.git"
    finally:
        stopped.set()
        thread.join(timeout=5)
        listener.close()
