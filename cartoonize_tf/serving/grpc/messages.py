"""gRPC request messages admitted before they are buffered.

gRPC buffers a unary call's message whole before its handler sees it, so a
call that sends all but the last byte of a large message holds that memory
for as long as it likes. Predict is therefore served as a client-streaming
method (the same bytes on the wire: a unary client cannot tell): the handler
starts with the call's headers, reserves the largest admissible message in
the memory budget, and only then reads the message. At most `limit` calls
wait for their message; at that count, or when the budget has no room, the
call that has waited longest gives way (RESOURCE_EXHAUSTED), so silent or
trickling calls cannot shut out the ones that send at once.
"""

import asyncio
import logging
import time

import grpc

from cartoonize_tf.serving.core.errors import ServingError
from cartoonize_tf.serving.core.memory_budget import Reservation

logger = logging.getLogger(__name__)

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
        self.waiting = []  # an asyncio.Event per waiting call, oldest first; set: give way

    async def receive(self, context):
        """The call's request message and a Reservation holding twice its size (the message
        and the arrays made from it); the caller releases it."""
        gave_way = asyncio.Event()
        self.waiting.append(gave_way)
        reservation = Reservation(self.budget, 0)
        try:
            await self.make_room(reservation, gave_way)
            request = await self.read(context, gave_way)
        except BaseException:
            reservation.release()
            raise
        finally:
            self.waiting.remove(gave_way)
        try:
            size = 2 * request.ByteSize()
            if size <= reservation.size:
                reservation.shrink_to(size)
            else:
                await self.budget.grow_waiting(reservation, size - reservation.size,
                                               "this request's tensors", ROOM_WAIT_SECONDS)
        except BaseException:
            reservation.release()
            raise
        return request, reservation

    async def make_room(self, reservation, own):
        """Reserves `message_bytes`, making the longest-waiting other calls give way while the
        count or the budget is full."""
        if len(self.waiting) > self.limit:
            self.give_way(own)
        deadline = time.monotonic() + ROOM_WAIT_SECONDS
        while not self.budget.try_grow(reservation, self.message_bytes, "a call's message"):
            if own.is_set():
                raise gave_way_error()
            if not self.give_way(own) and time.monotonic() >= deadline:
                raise ServingError("RESOURCE_EXHAUSTED", "the server is busy: no memory is "
                                                         "free to receive this call's message; "
                                                         "try again shortly")
            await asyncio.sleep(0.05)

    def give_way(self, own):
        """Tells the longest-waiting call other than `own` to give way; False if none can."""
        for waiting in self.waiting:
            if waiting is not own and not waiting.is_set():
                waiting.set()
                return True
        return False

    @staticmethod
    async def read(context, gave_way):
        reading = asyncio.ensure_future(context.read())
        giving_way = asyncio.ensure_future(gave_way.wait())
        try:
            await asyncio.wait({reading, giving_way}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            giving_way.cancel()
        if not reading.done():
            reading.cancel()
            raise gave_way_error()
        request = reading.result()
        if request is grpc.aio.EOF:
            raise ServingError("INVALID_ARGUMENT", "the call ended without a request message")
        return request


def gave_way_error():
    return ServingError("RESOURCE_EXHAUSTED", "the server had too many calls waiting for their "
                                              "message and this one had waited longest; send "
                                              "it again")
