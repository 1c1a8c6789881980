"""What every front end is built on: an event loop in a thread of its own, and the count of
requests in flight that a stopping server waits for.

A front end binds its port when made (OSError when it is taken, with nothing left running),
serves from `start()`, and `stop(grace)` stops accepting, lets requests in flight finish for
up to `grace` seconds and returns whether they all did.
"""

import asyncio
import logging
import threading
import time

logger = logging.getLogger(__name__)


class LoopThread:
    """An asyncio event loop run by a daemon thread; other threads hand it coroutines."""

    def __init__(self, name):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=name)
        self.thread.start()

    def run(self, coroutine, timeout):
        """The result of `coroutine` on the loop, waited for up to `timeout` s."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def run_logged(self, coroutine, timeout, what):
        """`run`, with a failure logged rather than raised (shutdown goes on whatever a step
        did)."""
        try:
            self.run(coroutine, timeout)
        except Exception:  # closing goes on whatever a step did
            logger.warning("%s failed", what, exc_info=True)

    def close(self):
        """Stops the loop and closes it once its thread has ended."""
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


class Activity:
    """Requests in flight (`with activity:` around each), so a stopping server can wait for
    them (`drain`); once `stopping`, a front end refuses new ones."""

    def __init__(self):
        self.condition = threading.Condition()
        self.active = 0
        self.stopping = False

    def __enter__(self):
        with self.condition:
            self.active += 1

    def __exit__(self, *exc):
        with self.condition:
            self.active -= 1
            self.condition.notify_all()

    def drain(self, timeout):
        """Refuses new requests and waits up to `timeout` s for the running ones; True if none
        are left."""
        deadline = time.monotonic() + timeout
        with self.condition:
            self.stopping = True
            while self.active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.condition.wait(left)
        return True
