"""The one output and exit-code convention of every `anchor` command.

A failure is one sentence on standard error, ``error: <what went wrong>``, and an exit status from
the table below; never a traceback. Results go to standard output (text, or JSON with
``--json`` where a command offers it), progress and notes to standard error.
"""

from __future__ import annotations

import typer

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INDETERMINATE",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NOT_YET",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_VALID",
    "fail",
    "sentence",
]

EXIT_OK = 0
#: The command could not do its job (a refused request, an unreachable server, a bad file).
EXIT_FAILURE = 1
#: `anchor proof`: the receipt has no proof yet; ask again later.
EXIT_NOT_YET = 3
#: sysexits EX_USAGE: a malformed command line or unusable input, so there is no result at all.
EXIT_USAGE = 64
#: Interrupted by the user (Ctrl-C at a prompt).
EXIT_INTERRUPTED = 130

#: `anchor verify`: the verdict is the exit status.
EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_INDETERMINATE = 2


def sentence(text: str) -> str:
    """``text`` as one sentence: a capital first letter and one final full stop."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def fail(message: str, code: int = EXIT_FAILURE) -> typer.Exit:
    """Print ``error: <message>`` on standard error and return the Exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)
