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
    assert checked >= 33  # guard, inbox, keywords, vocabulary, lexicon, privacy, scope, screening, calibration, starter, tenants


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
    assert _found(problems, checklists) == [(2, "unbekannte Kategorie wohnen")]
    assert _found(problems, latin1) == [(2, "kein UTF-8-Text (Datei bitte als UTF-8 speichern)")]


def test_every_bad_line_of_the_scope_words(data, tmp_path):
    benefits = data / "scope" / "benefits.tsv"
    benefits.write_text("# Kommentar\nWoGG\twohngeld | ?mietzuschuss\nSGB_3 sperrzeit\nSGB_99\tsonstwas\n"
                        "BKGG\tkinderzuschlag | | kiz\nSGB_12\tsozialhilfe\tsozialamt\n", "utf-8")
    problems, _ = run_checks(_settings(tmp_path), data=data)
    found = _found(problems, benefits)
    assert [line for line, _ in found] == [3, 4, 5, 6]
    assert found[0] == (3, "Tabulator zwischen Gesetz und Wörtern fehlt")
    assert found[1][1].startswith("unbekanntes Gesetz 'SGB_99' (erlaubt: BKGG, GrusiGV")
    assert found[2][1].startswith("leeres Wort in „kinderzuschlag | | kiz“")
    assert found[3] == (6, "erwartet genau einen Tabulator zwischen Gesetz und Wörtern, gefunden 2")


def test_every_bad_line_of_the_benefit_names(data, tmp_path):
    names = data / "scope" / "names.tsv"
    names.write_text("# Kommentar\nGrundsicherungsgeld\tbürgergeld | hartz iv\nGrundsicherungsgeld bürgergeld\n"
                     "\tbürgergeld\nGrundsicherungsgeld\t | \n", "utf-8")
    problems, _ = run_checks(_settings(tmp_path), data=data)
    assert _found(problems, names) == [
        (3, "Tabulator zwischen Name und anderen Namen fehlt"), (4, "Name fehlt"), (5, "keine anderen Namen"),
    ]


def test_every_bad_example_of_the_screening_model(data, tmp_path):
    examples = data / "screening" / "intents_train.jsonl"
    examples.write_text('{"text": "Wo ist mein Geld?", "label": "own_case", "language": "de"}\n'
                        '{"text": "kaputt", "label": "answer"\n'
                        '\n'
                        '{"text": "Hilfe", "label": "notfall", "language": "de"}\n'
                        '{"text": "Help", "label": "answer", "language": "fr"}\n'
                        '{"text": " ", "label": "answer", "language": "de"}\n'
                        '["text", "label"]\n', "utf-8")
    problems, _ = run_checks(_settings(tmp_path), data=data)
    found = _found(problems, examples)
    assert [line for line, _ in found] == [2, 4, 5, 6, 7]
    assert found[0][1].startswith("kein gültiges JSON")
    assert found[1][1].startswith("unbekanntes Label 'notfall' (erlaubt: answer, own_case, authority, suicide")
    assert found[2][1] == "unbekannte Sprache 'fr' (erlaubt: de, en, uk, ru, tr, ar)"
    assert found[3:] == [(6, "Feld 'text' fehlt oder ist leer"), (7, "kein JSON-Objekt")]


def test_the_calibration_models_weights_bias_and_threshold(data, tmp_path):
    model = data / "calibration" / "model.json"
    model.write_text(
        '{\n'
        ' "e5": {\n'
        '  "curated": {\n'
        '   "weights": {"similarity": 1.0, "rank": 2.0},\n'  # rank: a feature of extracts, not of curated matches
        '   "bias": -1.0,\n'
        '   "threshold": 1.5\n'
        '  },\n'
        '  "extractive": {\n'  # no bias
        '   "weights": {"confidence": "hoch"},\n'
        '   "threshold": 0.4\n'
        '  },\n'
        '  "generative": {}\n'
        ' }\n'
        '}\n', "utf-8")
    problems, _ = run_checks(_settings(tmp_path), data=data)
    assert _found(problems, model) == [
        (4, "„e5“ → curated: unbekanntes Merkmal „rank“ (erlaubt: similarity, covered, extra, margin, retrieved, translated)"),
        (6, "„e5“ → curated: „threshold“ muss eine Zahl von 0 bis 1 sein"),
        (8, "„e5“ → extractive: „bias“ fehlt"),
        (9, "„e5“ → extractive: das Gewicht von „confidence“ ist keine Zahl"),
        (12, "„e5“ → generative: unbekannte Art der Antwort (erlaubt: curated, extractive)"),
    ]
    model.write_text('{\n "e5": {}\n "": {}\n}\n', "utf-8")
    problems, _ = run_checks(_settings(tmp_path), data=data)
    assert _found(problems, model) == [(3, "kein gültiges JSON (Expecting ',' delimiter)")]


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
    (tenants / "routingkreis").mkdir()
    (tenants / "routingkreis" / "keywords.tsv").write_text("SGB II § 22\tmiete\nKaution ohne Tabulator\n", "utf-8")
    settings = _settings(tmp_path, tenants_dir=tenants, vocabulary_dir=vocabulary)
    problems, _ = run_checks(settings, data=data)
    messages = {str(p) for p in problems}
    assert any(m.startswith(f"{tenants / 'tippkreis.toml'}, Zeile 2: unbekannter Schlüssel „greting“") for m in messages)
    assert f"{tenants / 'routing-routingkreis.tsv'}, Zeile 2: unbekannte Kategorie miete" in messages
    assert any(m.startswith(f"{tenants / 'fehltkreis.toml'}, Zeile 2: die Routing-Datei") for m in messages)
    assert f"{vocabulary / 'routingkreis.tsv'}, Zeile 1: Tabulator zwischen Alltagswort und Fachbegriffen fehlt" in messages
    assert f"{tenants / 'routingkreis' / 'keywords.tsv'}, Zeile 2: Tabulator zwischen Fundstelle und Schlagwörtern fehlt" in messages
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
