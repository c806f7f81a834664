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
from amtslotse.cli.common import UserError, app, err, options

USER_ERROR = 2  # the user can fix it (exit code 1 is a command's own "found problems")
BUG = 70  # EX_SOFTWARE (sysexits.h): an internal error, a bug in Amtslotse


def run() -> None:
    """Entry point: runs the app and turns user errors into one line, never a traceback.

    Only `UserError` (amtslotse.errors) and an invalid setting (pydantic's ValidationError from
    the environment) count as the user's (exit code 2). Any other exception is a bug: one German
    line that says so (exit code 70); `amtslotse --debug ...` raises it with its traceback.
    """
    from pydantic import ValidationError

    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except UserError as error:
        err.print(f"[red]Fehler:[/red] {escape(str(error))}")
        sys.exit(USER_ERROR)
    except ValidationError as error:  # AMTSLOTSE_* variables that the Settings reject
        if error.title != "Settings":
            raise
        err.print(f"[red]Fehler:[/red] {escape(_settings_message(error))}")
        sys.exit(USER_ERROR)
    except (KeyboardInterrupt, typer.Abort):
        err.print("Abgebrochen.")
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: wrong option, missing argument
        error.show()
        sys.exit(error.exit_code)
    except Exception as error:  # a bug, not the user's doing
        if options.debug:
            raise
        err.print(f"[red]Interner Fehler[/red] (ein Programmfehler, nicht Ihre Eingabe): {escape(_summary(error))}")
        err.print("Für die Einzelheiten mit 'amtslotse --debug ...' wiederholen und die Ausgabe melden.")
        sys.exit(BUG)
    sys.exit(code if isinstance(code, int) else 0)


def _summary(error: Exception) -> str:
    """The exception's type and the start of its message, on one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def _settings_message(error) -> str:
    """A German line per invalid setting: the variable's name and what pydantic says."""
    problems = []
    for item in error.errors():
        name = "_".join(str(part) for part in item.get("loc", ()) if part != "__root__")
        problems.append(f"AMTSLOTSE_{name.upper()}: {item.get('msg', 'ungültig')}" if name else str(item.get("msg")))
    return "Ungültige Einstellung: " + "; ".join(problems)
