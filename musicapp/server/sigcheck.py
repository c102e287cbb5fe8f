"""Ed25519 checks of a batch's signatures, spread over worker processes for big batches.

Signature verification is most of an upload's cost (~0.05 ms an event with libsodium) and the cryptography
binding holds the GIL, so threads do not help. Big batches are checked in a small process pool
*before* the write lock is taken; small ones, or any pool failure, fall back to checking inline.
The results only tell ``translog.append_events`` which events to refuse: it still checks in order,
so the error names the first bad seq exactly as the inline path would.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

from musicapp.transparency import signing

log = logging.getLogger(__name__)

Item = tuple[str, str]  # (event hash hex, signature base64)


def check_all(public_b64: str, items: list[Item]) -> list[bool]:
    """Serial check; also what each worker runs on its chunk."""
    verifier = signing.Verifier(public_b64)
    out = []
    for digest, sig in items:
        try:
            data = bytes.fromhex(digest)
        except ValueError:
            out.append(False)
            continue
        out.append(verifier(data, sig))
    return out


class SignatureChecker:
    """``check(public_key, items)`` → one bool per item; a pool for batches of ``threshold``+."""

    def __init__(self, workers: int | None = None, threshold: int = 128) -> None:
        self.workers = workers if workers is not None else min(8, os.cpu_count() or 1)
        self.threshold = threshold
        self._pool: Executor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the server process has threads (and their locks) by now.
                ctx = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
            return self._pool

    def check(self, public_b64: str, items: list[Item]) -> list[bool]:
        return self.start(public_b64, items)()

    def start(self, public_b64: str, items: list[Item]) -> Callable[[], list[bool]]:
        """Hand a big batch to the pool now; the returned function waits for the answers.

        The caller can do other work for the batch meanwhile. Small batches, or a pool that
        fails (now or while answering), are checked inline when the function is called.
        """
        if self.workers < 2 or len(items) < self.threshold:
            return lambda: check_all(public_b64, items)
        size = -(-len(items) // self.workers)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        try:
            pool = self._executor()
            futures = [pool.submit(check_all, public_b64, chunk) for chunk in chunks]
        except Exception as exc:  # a broken pool must not refuse good uploads
            return self._fallback(exc, public_b64, items)

        def collect() -> list[bool]:
            try:
                return [ok for future in futures for ok in future.result()]
            except Exception as exc:
                return self._fallback(exc, public_b64, items)()

        return collect

    def _fallback(
        self, exc: Exception, public_b64: str, items: list[Item]
    ) -> Callable[[], list[bool]]:
        log.warning("signature pool failed (%s); checking inline", exc)
        self.close()
        return lambda: check_all(public_b64, items)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
