"""One thread running an asyncio loop, on which every HTTP and TCP check runs.

A thread per check cost ~0.6 ms of CPU per check in a sweep's burst (GIL hand-offs between a
thousand threads waking at once) against ~0.3 ms on one loop (bench/scale.py, 1,000 services).
Checks are submitted from any other thread and come back as concurrent futures; each check bounds
itself by its own deadline (ops/probe_net.py), so the loop never waits on a server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any


class ProbeLoopClosed(RuntimeError):
    """The prober is closing: no new check may start."""


class ProbeLoop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()
        self._closed = False

    def spawn_all(self, work: list[tuple[Coroutine[Any, Any, Any], Callable[[asyncio.Task], None]]]) -> None:
        """Start every (coroutine, on_done) with one wake-up of the loop; `on_done(task)` runs on the
        loop as the task ends, cancelled by close() included (perhaps before its first step). A
        sweep's checks hand their results on this way: a concurrent Future per check was ~6 % of
        the process's CPU at 1,000 services. Raises ProbeLoopClosed once the loop is closing."""
        with self._lock:
            if self._closed:
                for coro, _ in work:
                    coro.close()
                raise ProbeLoopClosed("the prober is closed")
            self._running_loop().call_soon_threadsafe(self._start, work)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Future:
        """Run `coro` on the loop; its result (or exception) lands in the returned future."""
        future: Future = Future()
        future.set_running_or_notify_cancel()

        def settle(task: asyncio.Task) -> None:
            if task.cancelled():  # close() ended it, perhaps before its first step
                future.set_exception(ProbeLoopClosed("the prober closed during the check"))
            elif task.exception() is not None:
                future.set_exception(task.exception())  # type: ignore[arg-type]
            else:
                future.set_result(task.result())

        try:
            self.spawn_all([(coro, settle)])
        except ProbeLoopClosed as exc:
            future.set_exception(exc)
        return future

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._run, args=(self._loop,), name="probe-loop", daemon=True)
            self._thread.start()
        return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def _start(self, work: list[tuple[Coroutine, Callable[[asyncio.Task], None]]]) -> None:
        # Started even if close() came meanwhile: its _stop runs next and cancels them, so every
        # `on_done` still hears of its task's end.
        assert self._loop is not None
        for coro, on_done in work:
            task = self._loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(on_done)

    def close(self) -> None:
        """End every check in flight now and stop the loop; later submissions fail at once."""
        with self._lock:
            self._closed = True
            loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._stop)
        except RuntimeError:  # the loop already stopped
            pass

    def _stop(self) -> None:
        assert self._loop is not None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()

        async def drain() -> None:
            await asyncio.gather(*tasks, return_exceptions=True)
            asyncio.get_running_loop().stop()

        self._loop.create_task(drain())
