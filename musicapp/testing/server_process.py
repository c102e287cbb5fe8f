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
                raise RuntimeError(f"the server exited: {self.log_text()}")
            try:
                if httpx.get(f"{self.url}/v1/server-key", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not answer in {timeout_s:g} s: {self.log_text()}"
                )
            time.sleep(0.05)

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
