"""The real rights server in a subprocess, for tests and benchmarks: `musicapp-server serve` on a
free loopback port, in its own process group (so a kill takes its signature workers too)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """start() returns once /v1/server-key answers; kill() is a SIGKILL of the whole group, and
    start() again brings the same server back on the same port and database."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        database_url: str | None = None,
        write_limit: int | None = None,  # write requests/s and burst; None: the server's own
        workers: int = 1,  # serve --workers (more than 1 needs PostgreSQL)
    ) -> None:
        self.data_dir = data_dir
        self._port_given = port is not None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.write_limit = write_limit
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def _base(self) -> list[str]:
        cmd = [sys.executable, "-m", "musicapp.server.cli", "--data-dir", str(self.data_dir)]
        return cmd + (["--database-url", self.database_url] if self.database_url else [])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The admin CLI on the same data folder and database (check the return code)."""
        return subprocess.run([*self._base(), *args], capture_output=True, text=True, timeout=120)

    def start(self, timeout_s: float = 60.0) -> None:
        """Start the server and return once *it* answers. A free port can be taken by another
        process between ``free_port`` and the server's bind (parallel test workers start their
        servers at once): then the server exits with "address already in use" while the other
        one answers on that port. So an answer counts only with this server's own key (from
        its data folder), and a first start whose port was taken moves to another free port."""
        for attempt in range(3):
            if self._start_once(timeout_s):
                return
            taken = "address already in use" in self.log_text()
            if not (taken and self.starts == 1 + attempt and not self._port_given and attempt < 2):
                raise RuntimeError(f"the server exited: {self.log_text()}")
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"

    def _start_once(self, timeout_s: float) -> bool:
        """True once this server answers; False if it exited first."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        cmd = [*self._base(), "serve", "--port", str(self.port)]
        if self.write_limit is not None:
            cmd += ["--write-rate", str(self.write_limit), "--write-burst", str(self.write_limit)]
        if self.workers != 1:
            cmd += ["--workers", str(self.workers)]
        with (self.data_dir / f"server-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                return False
            try:
                answer = httpx.get(f"{self.url}/v1/server-key", timeout=2)
                if answer.status_code == 200 and self._is_ours(answer.json()):
                    return True
            except (httpx.TransportError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not answer in {timeout_s:g} s: {self.log_text()}"
                )
            time.sleep(0.05)

    def _is_ours(self, answer: object) -> bool:
        """Whether a /v1/server-key answer names the key in this server's data folder."""
        from musicapp.transparency import signing

        path = self.data_dir / "server_key.pem"
        if not isinstance(answer, dict) or not path.exists():
            return False
        try:
            return answer.get("key_id") == signing.key_id(signing.load_private_key(path))
        except (OSError, signing.SigningError):
            return False

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        """Terminate politely, then kill what is left."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def log_text(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-2000:]
            for p in sorted(self.data_dir.glob("server-*.log"))
        )

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
