"""The CLI shows a user error as one German line (exit code 2) and every other exception as
what it is: a bug, as one German line that says so (exit code 70) and, with --debug, with its
traceback."""

from __future__ import annotations

import pytest
import typer

from amtslotse import cli
from amtslotse.ask.conversation import ChatError
from amtslotse.cli import common
from amtslotse.errors import ConfigError, DataFileError, InputError, UserError
from amtslotse.settings import get_settings


def _run(monkeypatch, capsys, error: BaseException, *options: str) -> tuple[int, str]:
    app = typer.Typer()
    app.callback()(common.global_options)  # the real program options (--debug)

    @app.command()
    def fail() -> None:
        raise error

    @app.command()
    def other() -> None:  # two commands: typer then expects the command's name
        pass

    monkeypatch.setattr(cli, "app", app)
    monkeypatch.setattr(common.options, "debug", False)
    monkeypatch.setattr("sys.argv", ["amtslotse", *options, "fail"])
    with pytest.raises(SystemExit) as done:
        cli.run()
    return done.value.code, capsys.readouterr().err


@pytest.mark.parametrize("error", [
    UserError("Bitte genau eines angeben."),
    DataFileError("routing.tsv, Zeile 3: unbekannte Kategorie wohnen"),
    ConfigError("AMTSLOTSE_DATABASE_URL wird nicht verstanden"),
    InputError("Die Nachricht ist leer."),
    ChatError("empty_message", "Bitte schreiben Sie Ihre Frage."),
])
def test_a_user_error_is_one_line_with_exit_code_2(monkeypatch, capsys, error):
    code, err = _run(monkeypatch, capsys, error)
    assert code == 2
    assert err.strip() == f"Fehler: {error}"


BUGS = [ValueError("list.remove(x): x not in list"), OSError(5, "Input/output error"), KeyError("tenant")]


@pytest.mark.parametrize("error", BUGS)
def test_any_other_exception_is_a_bug_and_keeps_its_traceback(monkeypatch, capsys, error):
    with pytest.raises(type(error)):
        _run(monkeypatch, capsys, error, "--debug")


@pytest.mark.parametrize("error", BUGS)
def test_without_debug_a_bug_is_one_line_that_says_so_with_its_own_exit_code(monkeypatch, capsys, error):
    code, err = _run(monkeypatch, capsys, error)
    assert code == cli.BUG == 70 and code != cli.USER_ERROR
    first, hint = err.strip().splitlines()
    assert first.startswith("Interner Fehler (ein Programmfehler, nicht Ihre Eingabe): " + type(error).__name__)
    assert "--debug" in hint and "Traceback" not in err


def test_a_user_error_stays_a_user_error_with_debug(monkeypatch, capsys):
    code, err = _run(monkeypatch, capsys, InputError("Die Nachricht ist leer."), "--debug")
    assert (code, err.strip()) == (2, "Fehler: Die Nachricht ist leer.")


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


def test_a_bad_embedder_setting_is_a_user_error_and_a_broken_question_file_names_its_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(common.options, "debug", False)
    monkeypatch.setenv("AMTSLOTSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMTSLOTSE_EMBEDDER", "gibt-es-nicht")
    monkeypatch.setattr("sys.argv", ["amtslotse", "search", "Miete"])
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as done:
            cli.run()
        assert done.value.code == 2
        assert capsys.readouterr().err.startswith("Fehler: AMTSLOTSE_EMBEDDER: Unbekanntes Embedding-Modell 'gibt-es-nicht'")

        questions = tmp_path / "fragen.jsonl"
        questions.write_text('{"id": "a", "question": "Miete?"}\n{"id": "b"}\n', encoding="utf-8")
        monkeypatch.setenv("AMTSLOTSE_EMBEDDER", "none")
        monkeypatch.setattr("sys.argv", ["amtslotse", "eval", "answers", "--questions", str(questions)])
        get_settings.cache_clear()
        with pytest.raises(SystemExit) as done:
            cli.run()
        assert done.value.code == 2
        assert capsys.readouterr().err.strip() == "Fehler: fragen.jsonl, Zeile 2: Feld 'question' fehlt"
    finally:
        get_settings.cache_clear()
