"""The server's defaults that `cartoonize serve --help` shows: importing this loads nothing else."""

# Open REST connections at most by default (fewer where the open-file limit needs it).
MAX_CONNECTIONS = 512
