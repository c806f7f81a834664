"""Scope: which laws may answer a question (ask/scope.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from amtslotse.ask.scope import JOBCENTER, scope_of
from amtslotse.models import Passage


def law_passage(source: str, section: str = "§ 1") -> Passage:
    return Passage(text="x", title="x", source=source, citation=section, section=section)


@pytest.mark.parametrize(
    ("question", "extra", "ambiguous"),
    [
        ("Wie hoch ist der Regelsatz bei Hartz IV?", set(), ()),
        ("Bekomme ich nach einer Eigenkündigung eine Sperrzeit?", {"SGB_3"}, ()),
        ("Wie lange bekomme ich Arbeitslosengeld?", {"SGB_3"}, ("SGB_3",)),
        ("Wird Arbeitslosengeld 2 gekürzt, wenn ich einen Termin verpasse?", set(), ()),
        ("Kann ich Wohngeld statt Bürgergeld bekommen?", {"WoGG"}, ()),
        ("Ich bin in Rente und bekomme Grundsicherung im Alter.", {"SGB_12"}, ()),
        ("Wo beantrage ich den Kinderzuschlag?", {"BKGG"}, ()),
        ("Wie beantrage ich Grundsicherung?", {"SGB_12"}, ("SGB_12",)),
        ("Wie beantrage ich Grundsicherungsgeld?", set(), ()),
        ("Bekomme ich Grundsicherung vom Jobcenter?", set(), ()),
    ],
)
def test_the_benefit_named_opens_its_law(question, extra, ambiguous) -> None:
    scope = scope_of(question)
    assert set(scope.extra) == extra and scope.ambiguous == ambiguous
    assert JOBCENTER <= scope.laws


def test_other_laws_are_out_unless_asked_about() -> None:
    plain = scope_of("Zahlt das Jobcenter die Nebenkosten?")
    assert not plain.allows(law_passage("SGB_12-BJNR302300003.md", "§ 35"))
    assert not plain.allows(law_passage("WoGG-BJNR185610008.md", "§ 11"))
    assert plain.allows(law_passage("SGB_2-BJNR295500003.md", "§ 22"))
    assert plain.allows(Passage(text="x", title="Öffnungszeiten", source="oeffnungszeiten.md", citation="Öffnungszeiten"))
    assert plain.allows(law_passage("Satzung-Musterkreis.md", "§ 3"))  # a tenant's own rules are never filtered
    curated = Passage(text="x", title="x", source="a.jsonl", citation="x",
                      meta={"kind": "curated", "sources": [{"source": "WoGG-BJNR185610008.md", "section": "§ 7"}]})
    assert not plain.allows(curated) and scope_of("Wohngeld oder Grundsicherungsgeld?").allows(curated)


def test_a_tenant_that_serves_other_laws() -> None:
    sozialamt = frozenset({"SGB_12", "SGB_10", "SGB_1", "SGG"})
    assert scope_of("Wie hoch ist die Grundsicherung?", sozialamt).allows(law_passage("SGB_12-BJNR302300003.md"))
    assert not scope_of("Wie hoch ist die Grundsicherung?", sozialamt).allows(law_passage("SGB_2-BJNR295500003.md"))


def test_a_malformed_line_of_the_benefit_words_names_file_and_line(tmp_path, monkeypatch) -> None:
    from amtslotse.ask import scope
    from amtslotse.errors import DataFileError

    (tmp_path / "data" / "scope").mkdir(parents=True)
    (tmp_path / "data" / "scope" / "benefits.tsv").write_text("# Kommentar\nWoGG\twohngeld\nSGB_3 sperrzeit\n", "utf-8")
    monkeypatch.setattr(scope, "resources", SimpleNamespace(files=lambda package: tmp_path))  # only scope.py's
    scope.benefits.cache_clear()
    scope._cues.cache_clear()
    try:
        with pytest.raises(DataFileError, match=r"benefits\.tsv, Zeile 3: Tabulator zwischen Gesetz und Wörtern fehlt"):
            scope_of("Bekomme ich eine Sperrzeit?")
    finally:
        scope.benefits.cache_clear()
        scope._cues.cache_clear()
