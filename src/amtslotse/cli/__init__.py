"""Command line: thin wrappers around the same functions the HTTP API calls.

One module per area registers its commands on the one `app` (cli/common.py).
"""

from __future__ import annotations

import sys

import typer

from amtslotse.cli import knowledge, chat, inbox, inbox_queue, server  # noqa: F401,I001  (register their commands, in help order)
from amtslotse.cli.common import UserError, app, err


def run() -> None:
    """Entry point: runs the app and turns user errors into one line, never a traceback."""
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except (UserError, ValueError, OSError) as error:
        err.print(f"[red]Fehler:[/red] {error}")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        err.print("Abgebrochen.")
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: wrong option, missing argument
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)

