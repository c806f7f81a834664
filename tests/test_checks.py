"""`amtslotse check`: the bundled data is clean; broken files (made here) are named with file and
line, every bad line of a line-based list, and the command exits with 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from amtslotse.checks import Problem, data_dir, run_checks
from amtslotse.settings import Settings


@pytest.fixture(scope="module")
def clean() -> tuple[list[Problem], int]:
    return run_checks(Settings(home=Path("/nonexistent-amtslotse-home"), tenants_dir=None))


@pytest.fixture
def data(tmp_path) -> Path:
    """A copy of the bundled data folder, to break."""
    copy = tmp_path / "data"
    shutil.copytree(data_dir(), copy)
    return copy


def _settings(tmp_path: Path, **kwargs) -> Settings:
    return Settings(home=tmp_path / "home", **kwargs)


def _found(problems: list[Problem], path: Path) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems if p.path == str(path)]


def test_the_bundled_data_has_no_problems(clean):
    problems, checked = clean
    assert problems == []
    assert checked >= 30  # guard, inbox, keywords, vocabulary, lexicon, privacy, starter, tenants


def test_every_bad_line_of_a_word_list_and_of_the_routing_rules(data, tmp_path):
    flags = data / "inbox" / "flags" / "de.txt"
    flags.write_text("vor dem Abschnitt\n[notlage]\nStrom .. gesperrt\n[dringend]\nsofort\n", "utf-8")
    routing = data / "inbox" / "routing.tsv"
    routing.write_text("# Kommentar\nunterkunft\tnotlage\t*\tKdU-Team\nwohnen\t*\t*\tKdU-Team\n*\teilig\t*\tX\nnur zwei\tSpalten\n",
                       "utf-8")
    problems, _ = run_checks(_settings(tmp_path), data=data)
    assert _found(problems, flags) == [
        (1, "Wendung vor dem ersten [Abschnitt]"),
        (4, "unbekannter Abschnitt [dringend] (erlaubt: frist, frist.mit_datum, frist.pflicht, frist.relativ, "
            "frist.tag, notlage, widerspruch)"),
    ]
    lines = [line for line, _ in _found(problems, routing)]
    assert lines == [3, 4, 5]
    assert "unbekannte Kategorie wohnen" in _found(problems, routing)[0][1]


def test_tsv_json_and_toml_problems_name_file_and_line(data, tmp_path):
    vocabulary = data / "vocabulary" / "bund.tsv"
    vocabulary.write_text("Miete\tKosten der Unterkunft\nStrom ohne Tabulator\n", "utf-8")
    curated = data / "starter" / "musterkreis" / "curated.jsonl"
    curated.write_text(curated.read_text("utf-8").splitlines()[0] + "\n{kaputt\n", "utf-8")
    checklists = data / "inbox" / "checklists.toml"
    checklists.write_text('unterkunft = ["Mietvertrag"]\nwohnen = ["Mietvertrag"]\n', "utf-8")
    latin1 = data / "privacy" / "surnames.txt"
    latin1.write_bytes("Müller\n".encode() + "Schäfer\n".encode("latin-1"))
    problems, _ = run_checks(_settings(tmp_path), data=data)
    assert _found(problems, vocabulary) == [(2, "Tabulator zwischen Alltagswort und Fachbegriffen fehlt")]
    assert [line for line, _ in _found(problems, curated)] == [2]
    assert _found(problems, checklists) == [(None, "unbekannte Kategorie wohnen")]
    assert _found(problems, latin1) == [(2, "kein UTF-8-Text (Datei bitte als UTF-8 speichern)")]


def test_a_tenants_files_unknown_key_routing_and_own_vocabulary(data, tmp_path):
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "tippkreis.toml").write_text('name = "Jobcenter Tippkreis"\ngreting = "Hallo"\n', "utf-8")
    (tenants / "routingkreis.toml").write_text('[inbox]\nrouting = "routing-routingkreis.tsv"\n', "utf-8")
    (tenants / "routing-routingkreis.tsv").write_text("unterkunft\t*\t*\tKdU\nmiete\t*\t*\tKdU\n", "utf-8")
    (tenants / "fehltkreis.toml").write_text('[inbox]\nrouting = "gibt-es-nicht.tsv"\n', "utf-8")
    vocabulary = tmp_path / "vocabulary"
    vocabulary.mkdir()
    (vocabulary / "routingkreis.tsv").write_text("Kohle ohne Tabulator\n", "utf-8")
    settings = _settings(tmp_path, tenants_dir=tenants, vocabulary_dir=vocabulary)
    problems, _ = run_checks(settings, data=data)
    messages = {str(p) for p in problems}
    assert any(m.startswith(f"{tenants / 'tippkreis.toml'}, Zeile 2: unbekannter Schlüssel „greting“") for m in messages)
    assert f"{tenants / 'routing-routingkreis.tsv'}, Zeile 2: unbekannte Kategorie miete" in messages
    assert any(m.startswith(f"{tenants / 'fehltkreis.toml'}, Zeile 2: die Routing-Datei") for m in messages)
    assert f"{vocabulary / 'routingkreis.tsv'}, Zeile 1: Tabulator zwischen Alltagswort und Fachbegriffen fehlt" in messages
    only, _ = run_checks(settings, tenant="tippkreis", data=data)
    assert {Path(p.path).name for p in only} == {"tippkreis.toml"}


def test_the_cli_prints_the_problems_and_exits_with_1(tmp_path, monkeypatch, capsys):
    from amtslotse.cli import run

    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "tippkreis.toml").write_text('[inbox]\nhiden = ["sonstiges"]\n', "utf-8")
    monkeypatch.setattr("amtslotse.cli.check.get_settings", lambda: _settings(tmp_path, tenants_dir=tenants))
    monkeypatch.setattr("sys.argv", ["amtslotse", "check", "--tenant", "tippkreis"])
    with pytest.raises(SystemExit) as done:
        run()
    out, err = capsys.readouterr()
    assert done.value.code == 1
    assert out.strip().startswith(f"{tenants / 'tippkreis.toml'}, Zeile 2: unbekannter Schlüssel „hiden“ [inbox]")
    assert "1 Problem(e)" in err and "Traceback" not in err
