"""How a command says it was stopped (Ctrl-C, SIGTERM) before it finished."""

import sys

STOPPED = 130  # the exit status shells give a command that Ctrl-C stopped


def report_stop(name, step, settings, folder):
    """For a run that ended before --steps: says where it stopped and returns `STOPPED`."""
    print(f"{name.capitalize()} stopped at step {step} of {settings.steps}; saved the checkpoint "
          f"and {folder.generator}. Continue with the same command and --resume.",
          file=sys.stderr)
    return STOPPED
