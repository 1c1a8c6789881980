"""The data layer's one error, importable without numpy (the command line catches it)."""


class DataError(ValueError):
    """The data folder is missing, empty, or lacks a required sub-folder."""
