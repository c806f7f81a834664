"""Command line: thin wrappers around the same functions the HTTP API calls.

One module per area registers its commands on the one `app` (cli/common.py).
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

# The modules register their commands: imported in the order of the help.
# isort: off
from amtslotse.cli import knowledge, chat, inbox, inbox_queue, server, evaluation, check, governance  # noqa: F401
# isort: on
from amtslotse.cli.common import UserError, app, err


def run() -> None:
    """Entry point: runs the app and turns user errors into one line, never a traceback.

    Only `UserError` (amtslotse.errors) and an invalid setting (pydantic's ValidationError from
    the environment) count as the user's; any other exception is a bug and keeps its traceback.
    """
    from pydantic import ValidationError

    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except UserError as error:
        err.print(f"[red]Fehler:[/red] {escape(str(error))}")
        sys.exit(2)
    except ValidationError as error:  # AMTSLOTSE_* variables that the Settings reject
        if error.title != "Settings":
            raise
        err.print(f"[red]Fehler:[/red] {escape(_settings_message(error))}")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        err.print("Abgebrochen.")
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: wrong option, missing argument
        error.show()
        sys.exit(error.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def _settings_message(error) -> str:
    """A German line per invalid setting: the variable's name and what pydantic says."""
    problems = []
    for item in error.errors():
        name = "_".join(str(part) for part in item.get("loc", ()) if part != "__root__")
        problems.append(f"AMTSLOTSE_{name.upper()}: {item.get('msg', 'ungültig')}" if name else str(item.get("msg")))
    return "Ungültige Einstellung: " + "; ".join(problems)
