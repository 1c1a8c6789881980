"""How a command says it cannot run: one `CommandError`, printed by `cli/main.py`."""


class CommandError(Exception):
    """The command cannot run: `main` prints `error: <message>` on stderr and exits with `status`
    (2, "nothing could run", unless a command documents another)."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status
