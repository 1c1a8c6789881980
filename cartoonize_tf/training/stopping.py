"""A training run stops the same way on Ctrl-C and on `kill`: at the end of a step, saved."""

import logging
import signal
import threading

logger = logging.getLogger(__name__)


class StopRequest:
    """While active, SIGINT and SIGTERM ask the run to stop after the current step.

    `with StopRequest() as stop:` then check `stop.requested` between steps. So
    a run stopped by Ctrl-C, `kill`, a job scheduler or a container runtime
    (the last three send SIGTERM) saves the step it reached, and never stops in
    the middle of a step or of a save. A second signal stops at once
    (`KeyboardInterrupt`). Python runs signal handlers in the main thread only;
    entered from another thread, nothing is installed.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self._previous = {}

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        logger.info("%s: stopping after this step (send it again to stop at once)",
                 signal.Signals(signum).name)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup`, `&` in a script
                    self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
