"""``run_write(server, work)``: a write transaction under the write lock, on the event loop when
the lock is free.

Every SQL statement a thread-pool write runs releases the GIL and must win it back from the
event loop thread. Under the mixed load of ``benchmarks/sync.py`` (64 clients) that tax made a
write hold the lock about 10 ms instead of 2.5 ms, so the lock, and with it the server, saturated
near 400 requests/s with writes waiting half a second. A write run on the loop thread pays no
such tax (the same load: 480 requests/s served with p99 under 50 ms).

So a write takes the lock without waiting when it is free and runs inline. When the lock is held
(a big upload running in the thread pool), it waits in the thread pool as before, so the loop
never stalls on the lock. Big uploads (``INLINE_EVENTS``+ events) always run in the thread pool:
holding the loop for them would stall every other caller.

On PostgreSQL several server processes may share the database, and an inline write can wait on
another process's row lock (``log_state`` FOR UPDATE, the registry's table lock) inside a
statement, stalling this process's loop for the length of that write. Measured, inline still
wins there (4 processes, the same load: 301 req/s with p99 6.6 s in the thread pool, 317 req/s
with p99 137 ms inline). ``Server.inline_writes`` False keeps every write in the thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from musicapp.server.app import Server

T = TypeVar("T")

INLINE_EVENTS = 100
"""Uploads of more events than this run in the thread pool (a 1,000-event batch takes ~100 ms)."""


def _write_blocking(server: Server, work: Callable[[Connection], T]) -> T:
    """``work(conn)`` in one transaction under the write lock, waiting for the lock."""
    with server.write_lock, server.engine.begin() as conn:
        return work(conn)


async def run_write(server: Server, work: Callable[[Connection], T], inline: bool = True) -> T:
    """``work(conn)`` in one transaction under the write lock: inline if the lock is free (and
    ``inline``: False for work too long to hold the loop for), else in the thread pool."""
    if inline and server.inline_writes and server.write_lock.acquire(blocking=False):
        try:
            with server.engine.begin() as conn:
                return work(conn)
        finally:
            server.write_lock.release()
    return await run_in_threadpool(_write_blocking, server, work)
