"""The CLI shows a user error as one German line (exit code 2) and every other exception as
what it is: a bug, with its traceback."""

from __future__ import annotations

import pytest
import typer

from amtslotse import cli
from amtslotse.errors import ConfigError, DataFileError, InputError, UserError
from amtslotse.settings import get_settings


def _run(monkeypatch, capsys, error: BaseException) -> tuple[int, str]:
    app = typer.Typer()

    @app.command()
    def fail() -> None:
        raise error

    @app.command()
    def other() -> None:  # two commands: typer then expects the command's name
        pass

    monkeypatch.setattr(cli, "app", app)
    monkeypatch.setattr("sys.argv", ["amtslotse", "fail"])
    with pytest.raises(SystemExit) as done:
        cli.run()
    return done.value.code, capsys.readouterr().err


@pytest.mark.parametrize("error", [
    UserError("Bitte genau eines angeben."),
    DataFileError("routing.tsv, Zeile 3: unbekannte Kategorie wohnen"),
    ConfigError("AMTSLOTSE_DATABASE_URL wird nicht verstanden"),
    InputError("Die Nachricht ist leer."),
])
def test_a_user_error_is_one_line_with_exit_code_2(monkeypatch, capsys, error):
    code, err = _run(monkeypatch, capsys, error)
    assert code == 2
    assert err.strip() == f"Fehler: {error}"


@pytest.mark.parametrize("error", [ValueError("list.remove(x): x not in list"), OSError(5, "Input/output error"),
                                   KeyError("tenant")])
def test_any_other_exception_is_a_bug_and_keeps_its_traceback(monkeypatch, capsys, error):
    with pytest.raises(type(error)):
        _run(monkeypatch, capsys, error)


def test_an_invalid_setting_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("AMTSLOTSE_PORT", "kein-port")
    monkeypatch.setattr("sys.argv", ["amtslotse", "check"])  # reads the settings first
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as done:
            cli.run()
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "Ungültige Einstellung: AMTSLOTSE_PORT" in err and "Traceback" not in err
