"""A question is analysed once per answer, and an inbox message is not redacted again for its
draft (issue 10, move 3: "analyse a question once and pass the result down"). The answers
themselves are checked elsewhere (test_curated_matching, test_inbox_flow); here only how often
the work is done."""

from __future__ import annotations

from types import SimpleNamespace

from amtslotse.ask import pipeline
from amtslotse.inbox.processing import draft_reply
from amtslotse.search import analysis

TENANT = "musterkreis"


def _counting(monkeypatch, module, name: str) -> list[str]:
    calls: list[str] = []
    real = getattr(module, name)

    def counted(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def _warm(asker) -> None:
    """The curated index analyses every phrasing once per tenant when it first loads; a
    phrasing may be worded like a test question, so that happens before counting."""
    asker.ask("Wie stelle ich einen Antrag?", TENANT)


def test_a_question_is_analysed_once_per_answer(app_server, monkeypatch) -> None:
    asker = app_server.services.asker
    _warm(asker)
    for question in ("Muss ich mein Auto verkaufen?", "Wie beantrage ich Bildung und Teilhabe für mein Kind?"):
        calls = _counting(monkeypatch, analysis, "weighted_terms")
        answer = asker.ask(question, TENANT)
        assert answer.outcome not in ("greeting", "refused", "injection")  # it was looked up
        assert calls.count(question) == 1, (question, answer.outcome)
        monkeypatch.undo()


def test_a_follow_up_is_analysed_once_alone_and_once_with_the_question_before(app_server, monkeypatch) -> None:
    asker = app_server.services.asker
    _warm(asker)
    calls = _counting(monkeypatch, analysis, "weighted_terms")
    asker.ask("und wenn ich umziehe?", TENANT, history=["Zahlt ihr die Nebenkosten?"])
    assert calls.count("und wenn ich umziehe?") == 1
    assert calls.count("und wenn ich umziehe? Zahlt ihr die Nebenkosten?") == 1


def test_an_inbox_draft_does_not_redact_the_message_again(app_server, monkeypatch) -> None:
    """Intake stored the message redacted (`InboxItem.redacted`); the draft asks with that text."""
    redactions = _counting(monkeypatch, pipeline, "redact")
    item = SimpleNamespace(redacted="Muss ich mein Auto verkaufen? Gruß [NAME]", tenant=TENANT, reference="MK-2026-000001")
    draft = draft_reply(app_server.services.asker, item, ["Kontoauszüge"], "Jobcenter Musterkreis")
    assert redactions == []
    assert "MK-2026-000001" in draft["text"] and "- Kontoauszüge" in draft["text"]
    app_server.services.asker.ask("Muss ich mein Auto verkaufen?", TENANT)
    assert redactions == ["Muss ich mein Auto verkaufen?"]  # a chat question is redacted, once
