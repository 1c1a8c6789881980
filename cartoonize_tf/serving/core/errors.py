"""The one error type of the serving code, carrying the gRPC status a client should see."""


class ServingError(Exception):
    """A request failed; `code` is the gRPC status name TF Serving would use."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message
