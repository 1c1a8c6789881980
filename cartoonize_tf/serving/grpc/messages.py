"""gRPC request messages admitted before they are buffered.

gRPC buffers a unary call's message whole before its handler sees it, so a
call that sends all but the last byte of a large message holds that memory
for as long as it likes. Predict is therefore served as a client-streaming
method (the same bytes on the wire: a unary client cannot tell): the handler
starts with the call's headers, reserves the largest admissible message in
the memory budget, and only then reads the message (before that, HTTP/2's
flow-control window bounds what a call can send). At most `limit` calls read
their message at once; at that count, or when the budget has no room, the
call reading longest gives way (RESOURCE_EXHAUSTED), so silent or trickling
calls cannot shut out the ones that send at once; where the budget is held
by running requests instead, a call waits up to ROOM_WAIT_SECONDS.
"""

import asyncio
import time

import grpc

from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.memory_budget import Reservation

# Calls waiting for their message at most (past it, the one waiting longest gives way).
MAX_WAITING_MESSAGES = 64
# How long a call waits for room in the budget (making older waiting calls give way) before
# RESOURCE_EXHAUSTED.
ROOM_WAIT_SECONDS = 5.0


class MessageWaits:
    """The calls waiting for their request message, each holding `message_bytes` of `budget`."""

    def __init__(self, budget, message_bytes, limit=None):
        self.budget = budget
        self.message_bytes = message_bytes
        self.limit = MAX_WAITING_MESSAGES if limit is None else limit
        # An asyncio.Event per call holding its reservation and reading, oldest first; set:
        # give way.
        self.reading = []

    async def receive(self, context):
        """The call's request message and a Reservation holding twice its size (the message
        and the arrays made from it); the caller releases it."""
        gave_way = asyncio.Event()
        reservation = Reservation(self.budget, 0)
        try:
            if len(self.reading) >= self.limit:
                self.give_way()
            await self.make_room(reservation, self.message_bytes, "a call's message")
            self.reading.append(gave_way)
            try:
                request = await self.read(context, gave_way)
            finally:
                self.reading.remove(gave_way)
            size = 2 * request.ByteSize()
            if size <= reservation.size:
                reservation.shrink_to(size)
            else:  # no longer reading: it takes room from readers, never gives its own
                await self.make_room(reservation, size - reservation.size,
                                     "this request's tensors")
        except BaseException:
            reservation.release()
            raise
        return request, reservation

    async def make_room(self, reservation, size, what):
        """Adds `size` bytes to `reservation`: while the budget has no room, the call reading
        longest gives way (one at a time: only what reading calls hold is taken back), and
        after ROOM_WAIT_SECONDS without room, RESOURCE_EXHAUSTED."""
        deadline = time.monotonic() + ROOM_WAIT_SECONDS
        while not self.budget.try_grow(reservation, size, what):
            if time.monotonic() >= deadline:
                raise ServingError("RESOURCE_EXHAUSTED", f"the server is busy: no memory is "
                                                         f"free for {what}; try again shortly")
            if not any(waiting.is_set() for waiting in self.reading):
                self.give_way()  # one at a time: the next only once its memory is back
            await asyncio.sleep(0.05)

    def give_way(self):
        """Tells the call reading longest to give way (False where none is reading)."""
        for waiting in self.reading:
            if not waiting.is_set():
                waiting.set()
                return True
        return False

    @staticmethod
    async def read(context, gave_way):
        """The call's message, or RESOURCE_EXHAUSTED once `gave_way` is set first."""
        reading = asyncio.ensure_future(context.read())
        giving_way = asyncio.ensure_future(gave_way.wait())
        try:
            await asyncio.wait({reading, giving_way}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            giving_way.cancel()
            if not reading.done():
                reading.cancel()  # it gave way, or the call itself was cancelled
        if reading.cancelled() or not reading.done():
            raise gave_way_error()
        request = reading.result()
        if request is grpc.aio.EOF:
            raise ServingError("INVALID_ARGUMENT", "the call ended without a request message")
        return request


def gave_way_error():
    return ServingError("RESOURCE_EXHAUSTED", "the server had too many calls waiting for their "
                                              "message and this one had waited longest; send "
                                              "it again")
