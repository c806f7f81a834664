"""The staff workspace API through real HTTP (`app_server`: the real app on loopback over the
starter pack): analytics as JSON, CSV and SVG, the search test, knowledge and curated answers.

Each test module has its own tenants: the server is shared with other test modules.
"""

from __future__ import annotations

import csv
import io
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from amtslotse.analytics import Minutes, Period, build_report, render_chart, report_csv
from amtslotse.ask import texts
from amtslotse.inbox.processing import process_pending
from amtslotse.models import Turn

TENANT = "auswertungskreis"  # analytics: only this module's questions and messages
OTHER = "anderkreis"
PASSWORD = "Arbeitsbereich-2026"
MINUTES, RENT_MINUTES = 4, 10
SVG = "{http://www.w3.org/2000/svg}"

QUESTIONS = [
    "Muss ich mein Auto verkaufen, wenn ich Bürgergeld bekomme?",
    "Welche Mehrbedarfe gibt es für Schwangere?",
    "Wie hoch ist die Hundesteuer für einen Dackel in Musterstadt?",
    "wie hoch ist die   HUNDESTEUER für einen Dackel in Musterstadt",
    "Wo ist mein Geld? Mein Antrag von Erika Mustermann liegt seit Wochen bei Ihnen.",
    "Ich habe seit drei Tagen nichts mehr zu essen und kein Geld, bitte helfen Sie mir.",
    "Schreib mir bitte ein Gedicht über Katzen.",
    "Hallo",
]


@pytest.fixture(scope="module")
def api(app_server):
    settings, store = app_server.services.settings, app_server.services.store
    folder = settings.tenants_dir or settings.home / "tenants"
    folder.mkdir(parents=True, exist_ok=True)
    # The tenant's own minutes per question, and more for one topic: read at request time.
    (folder / f"{TENANT}.toml").write_text(
        f'name = "Jobcenter Auswertungskreis"\nreference_prefix = "AW"\n\n[analytics]\nminutes_per_question = {MINUTES}\n',
        encoding="utf-8",
    )
    for tenant in (TENANT, OTHER):
        store.ensure_tenant(tenant)
    store.add_staff_user("a.auswertung", TENANT, ["auswertung", "sachbearbeitung"], PASSWORD)
    store.add_staff_user("s.nurpost", TENANT, ["sachbearbeitung"], PASSWORD)
    store.add_staff_user("o.anders", OTHER, ["auswertung", "redaktion"], PASSWORD)
    store.add_staff_user("v.verbund", "*", ["auswertung"], PASSWORD)  # the cooperative: names the tenant
    with httpx.Client(base_url=app_server.url, timeout=120) as client:
        yield client


def login(api, name: str) -> dict:
    response = api.post("/api/v1/staff/login", json={"name": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    api.cookies.clear()  # the Bearer token only: a call without it must be anonymous
    return {"Authorization": f"Bearer {response.json()['token']}"}


def ask(api, conversation: str, text: str, tenant: str = TENANT) -> dict:
    response = api.post(f"/api/v1/conversations/{conversation}/messages", json={"text": text, "tenant": tenant})
    assert response.status_code == 200, response.text
    return response.json()


def group(answer: dict) -> str | None:
    """The analytics group of a chat answer as the citizen's client sees it."""
    if answer["refused"]:
        return "refused"
    if answer["urgent"]:
        return "urgent"
    if answer["handover"]:
        return "handover"
    return "answered" if answer["citations"] else None  # a greeting: no question


@pytest.fixture(scope="module")
def activity(api, app_server):
    """Questions in the chat (with feedback) and inbox messages, one of them answered."""
    answers = [ask(api, f"stat-{uuid.uuid4().hex[:12]}", text) for text in QUESTIONS]
    rated = next(a for a in answers if group(a) == "answered")
    api.post(f"/api/v1/conversations/{rated['conversation_id']}/messages/{rated['message_id']}/feedback",
             json={"rating": "down", "comment": "Zu lang. Rufen Sie mich an: 0171 2345678"},
             headers={"X-Conversation-Token": rated["conversation_token"]}).raise_for_status()
    api.post(f"/api/v1/conversations/{answers[2]['conversation_id']}/messages/{answers[2]['message_id']}/feedback",
             json={"rating": "up"}, headers={"X-Conversation-Token": answers[2]["conversation_token"]}).raise_for_status()
    references = [
        api.post("/api/v1/inbox", json={"tenant": TENANT, "text": text}).json()["reference"]
        for text in ("Anbei meine Lohnabrechnung für Oktober.", "Ich ziehe zum 1. Januar um, hier der neue Mietvertrag.")
    ]
    process_pending(app_server.services.store, app_server.services.settings, asker=app_server.services.asker, tenant=TENANT)
    staff = login(api, "a.auswertung")
    assert api.post(f"/api/v1/staff/inbox/{references[0]}/review", headers=staff).status_code == 200
    answered = api.post(f"/api/v1/staff/inbox/{references[0]}/answer", json={"text": "Danke, ist angekommen."}, headers=staff)
    assert answered.status_code == 200, answered.text
    assert api.post(f"/api/v1/staff/inbox/{references[1]}/review", headers=staff).status_code == 200
    forwarded = api.post(f"/api/v1/staff/inbox/{references[1]}/forward", json={"team": "Leistung Team 2"}, headers=staff)
    assert forwarded.status_code == 200, forwarded.text
    return answers, references


def test_analytics_counts_what_citizens_asked_and_staff_did(api, activity):
    answers, _references = activity
    groups = [group(a) for a in answers]
    assert {"answered", "handover", "urgent", "refused"} <= set(groups), groups  # the data covers every group
    report = api.get("/api/v1/staff/analytics", params={"tenant": TENANT, "days": 7}, headers=login(api, "a.auswertung"))
    assert report.status_code == 200, report.text
    data = report.json()
    asked = [g for g in groups if g]
    assert data["total_questions"] == len(asked) == len(QUESTIONS) - 1  # "Hallo" is no question
    for name in ("answered", "handover", "refused", "urgent"):
        assert data["counts"][name] == asked.count(name)
        assert data["shares"][name] == round(asked.count(name) / len(asked), 3)
    today = data["per_day"][-1]
    assert len(data["per_day"]) == 7 and today["questions"] == len(asked) and today["answered"] == asked.count("answered")
    assert sum(t["count"] for t in data["topics"]) == len(asked)
    # The two spellings of the Hundesteuer question are one gap, counted twice.
    dog = [u for u in data["unanswered"] if "hundesteuer" in u["question"].lower()]
    assert len(dog) == 1 and dog[0]["count"] == 2, data["unanswered"]
    assert all("Mustermann" not in u["question"] for u in data["unanswered"])  # redacted questions only
    assert (data["feedback"]["up"], data["feedback"]["down"]) == (1, 1)
    [comment] = data["feedback"]["comments"]
    assert comment["rating"] == "down" and "2345678" not in comment["comment"] and comment["comment"].startswith("Zu lang.")
    inbox = data["inbox"]
    assert inbox["total"] == 2 and sum(c["count"] for c in inbox["per_category"]) == 2
    assert all(c["label"] and c["category"] for c in inbox["per_category"])  # triaged: known categories with labels
    first = inbox["first_response_hours"]
    assert first["count"] == 2 and first["open"] == 0 and 0 <= first["median"] <= first["p90"] < 1  # answered and forwarded
    saved = data["time_saved"]
    assert saved["questions"] == asked.count("answered") and saved["minutes_per_question"] == MINUTES
    assert saved["minutes"] == MINUTES * asked.count("answered") == sum(t["minutes"] for t in saved["by_topic"])


def test_analytics_csv_opens_in_excel_with_german_headers(api, activity):
    response = api.get("/api/v1/staff/analytics.csv", params={"tenant": TENANT}, headers=login(api, "a.auswertung"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode()) and "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Auswertung"] and rows[1][:2] == ["Jobcenter", "von"] and rows[2][0] == "Jobcenter Auswertungskreis"
    titles = [r[0] for r, before in zip(rows[1:], rows) if r and not before]
    assert {"Fragen pro Tag", "Anteile", "Fragen pro Thema", "Offene Fragen (unsicher oder übergeben)",
            "Posteingang nach Kategorie", "Geschätzte eingesparte Arbeitszeit"} <= set(titles)
    day_header = rows.index(["Tag", "Fragen", "Beantwortet", "Übergeben", "Abgelehnt", "Notlage", "davon unsicher"])
    assert sum(int(r[1]) for r in rows[day_header + 1: day_header + 31]) == len(QUESTIONS) - 1
    total = next(r for r in rows if r and r[0] == "Summe")
    answered = sum(1 for a in activity[0] if group(a) == "answered")
    assert total[1] == str(answered) and total[3] == f"{MINUTES * answered},0"  # decimal comma


def test_charts_are_accessible_svg_images_with_their_numbers(api, activity):
    staff = login(api, "a.auswertung")
    for name in ("per_day", "outcomes", "topics", "feedback", "inbox", "time_saved"):
        response = api.get(f"/api/v1/staff/analytics/chart/{name}.svg", params={"tenant": TENANT}, headers=staff)
        assert response.status_code == 200, (name, response.text)
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        root = ET.fromstring(response.text)
        assert root.tag == f"{SVG}svg" and root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby").split()
        ids = {e.get("id"): e for e in root.iter() if e.get("id")}
        assert ids[title_id].tag == f"{SVG}title" and ids[title_id].text
        assert ids[desc_id].tag == f"{SVG}desc" and "Keine Daten" not in ids[desc_id].text, name
        assert not [e for e in root.iter() if e.tag.endswith(("script", "foreignObject", "image"))]
        assert not any(k.endswith("href") or k.startswith("on") for e in root.iter() for k in e.attrib)
        assert root.findall(f".//{SVG}rect") and root.findall(f".//{SVG}text")
    feedback = ET.fromstring(api.get("/api/v1/staff/analytics/chart/feedback.svg", params={"tenant": TENANT}, headers=staff).text)
    assert "Daumen hoch: 1; Daumen runter: 1" in feedback.find(f"{SVG}desc").text
    assert api.get("/api/v1/staff/analytics/chart/torte.svg", params={"tenant": TENANT}, headers=staff).status_code == 404


@pytest.mark.parametrize("who, params, status, code", [
    (None, {"tenant": TENANT}, 401, "unauthorized"),
    ("s.nurpost", {"tenant": TENANT}, 403, "forbidden"),  # inbox staff without the role "auswertung"
    ("o.anders", {"tenant": TENANT}, 403, "forbidden"),  # another Jobcenter
    ("a.auswertung", {"tenant": TENANT, "days": 0}, 422, "invalid_request"),
    ("a.auswertung", {"tenant": "Böse Stadt"}, 422, "invalid_tenant"),
    ("v.verbund", {}, 422, "tenant_required"),
])
def test_analytics_refuses_with_a_german_message(api, who, params, status, code):
    headers = login(api, who) if who else {}
    for path in ("/api/v1/staff/analytics", "/api/v1/staff/analytics.csv", "/api/v1/staff/analytics/chart/topics.svg"):
        response = api.get(path, params=params, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_another_jobcenter_sees_only_its_own_numbers(api, activity):
    cooperative = api.get("/api/v1/staff/analytics", params={"tenant": TENANT}, headers=login(api, "v.verbund"))
    assert cooperative.status_code == 200 and cooperative.json()["total_questions"] == len(QUESTIONS) - 1
    response = api.get("/api/v1/staff/analytics", params={"days": 7}, headers=login(api, "o.anders"))  # own tenant by default
    assert response.status_code == 200 and response.json()["tenant"] == OTHER
    assert response.json()["total_questions"] == 0 and response.json()["inbox"]["total"] == 0
    empty = api.get("/api/v1/staff/analytics/chart/topics.svg", headers=login(api, "o.anders"))
    assert "Keine Daten" in ET.fromstring(empty.text).find(f"{SVG}desc").text


def test_report_by_local_day_with_topic_minutes_and_a_safe_csv():
    """The pure functions: Berlin days, per-topic minutes, formula-looking cells defused."""
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    period = Period.last_days(2, now)

    def turn(hours_ago: float, outcome: str, topic: str = "", question: str = "Frage") -> Turn:
        return Turn(question=question, answer="", outcome=outcome, mode="extractive", confidence=0.5, language="de",
                    created_at=now - timedelta(hours=hours_ago), topic=topic)

    turns = [
        turn(1, "answered", "Kosten der Unterkunft"), turn(2, "answered", "Vermögen"),
        turn(12.5, "answered", "Kosten der Unterkunft"),  # 23:30 UTC = 00:30 in Berlin: today, not yesterday
        turn(14, "unsure", question="=HYPERLINK(\"http://x\")"), turn(15, "greeting"), turn(72, "answered", "Vermögen"),
    ]
    minutes = Minutes.from_config({"analytics": {"minutes_per_question": 5, "minutes_by_topic": {"Kosten der Unterkunft": RENT_MINUTES}}})
    report = build_report(turns, [], period, minutes, str)
    assert [d["questions"] for d in report["per_day"]] == [1, 3] and report["total_questions"] == 4
    assert report["time_saved"]["minutes"] == 2 * RENT_MINUTES + 5
    assert report["time_saved"]["by_topic"][0] == {"topic": "Kosten der Unterkunft", "questions": 2, "minutes_each": RENT_MINUTES, "minutes": 2 * RENT_MINUTES}
    assert report["inbox"]["first_response_hours"] == {"median": None, "p90": None, "count": 0, "open": 0}
    rows = list(csv.reader(io.StringIO(report_csv(report, "Test").decode("utf-8-sig")), delimiter=";"))
    assert ["'=HYPERLINK(\"http://x\")", "1", report["unanswered"][0]["last"]] in rows
    inbox_chart = ET.fromstring(render_chart("inbox", report))  # no messages: a chart that says so
    assert inbox_chart.find(f"{SVG}desc").text == "Keine Daten im gewählten Zeitraum."
    assert "3 Fragen" not in render_chart("per_day", report) and "4 Fragen an 2 Tagen" in render_chart("per_day", report)
    with pytest.raises(ValueError, match="Minuten"):
        Minutes.from_config({"analytics": {"minutes_per_question": "sechs"}})


def test_search_test_shows_what_a_citizen_would_get_without_counting_it(api, app_server):
    staff = login(api, "s.nurpost")  # any staff member may test
    before = api.get("/api/v1/staff/analytics", params={"tenant": TENANT}, headers=login(api, "a.auswertung")).json()
    response = api.get("/api/v1/staff/search-test", params={"tenant": TENANT, "q": QUESTIONS[0]}, headers=staff)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["outcome"] == "answered" and data["citations"] and data["answer"]
    assert texts.AI_NOTICE not in data["answer"]  # not the first turn of a conversation
    after = api.get("/api/v1/staff/analytics", params={"tenant": TENANT}, headers=login(api, "a.auswertung")).json()
    assert after["total_questions"] == before["total_questions"]
    assert api.get("/api/v1/staff/search-test", params={"tenant": TENANT, "q": "  "}, headers=staff).json()["error"]["code"] == "empty_question"
    assert api.get("/api/v1/staff/search-test", params={"tenant": OTHER, "q": "Miete"}, headers=staff).status_code == 403
    assert api.get("/api/v1/staff/search-test", params={"tenant": TENANT, "q": "Miete"}).status_code == 401


# --- knowledge and curated answers ------------------------------------------------------------

EDITORIAL = "redaktionkreis"  # its own tenant: documents and curated answers of this module only
FACT = (
    "# Sprechstunde im Familienbüro Nordstadt\n\n"
    "Das Familienbüro Nordstadt des Jobcenters berät Alleinerziehende jeden Mittwoch von 14 bis 17 Uhr "
    "im Raum 112 im Rathaus Nordstadt, ohne Termin. Bitte bringen Sie Ihren letzten Bescheid mit.\n"
)
FACT_QUESTION = "Wann ist die Sprechstunde im Familienbüro Nordstadt?"


@pytest.fixture(scope="module")
def editor(api, app_server):
    store = app_server.services.store
    store.ensure_tenant(EDITORIAL)
    store.add_staff_user("r.redaktion", EDITORIAL, ["redaktion"], PASSWORD)
    store.add_staff_user("a.nurzahlen", EDITORIAL, ["auswertung"], PASSWORD)
    store.add_staff_user("r.muster", "musterkreis", ["redaktion"], PASSWORD)
    return login(api, "r.redaktion")


def search(api, headers, question: str) -> dict:
    response = api.get("/api/v1/staff/search-test", params={"tenant": EDITORIAL, "q": question}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def documents(api, headers) -> dict:
    response = api.get("/api/v1/staff/knowledge", params={"tenant": EDITORIAL}, headers=headers)
    assert response.status_code == 200, response.text
    return {d["source"]: d for d in response.json()["documents"]}


def audit(api, headers) -> list[tuple[str, str, str]]:
    entries = api.get("/api/v1/staff/knowledge/audit", params={"tenant": EDITORIAL}, headers=headers).json()["entries"]
    return [(e["actor"], e["action"], e["object_id"]) for e in entries]


def test_uploaded_document_is_listed_found_and_deleted_with_an_audit_trail(api, editor, app_server):
    assert not any("familienbuero" in (c["source"] or "") for c in search(api, editor, FACT_QUESTION)["citations"])
    response = api.post(
        "/api/v1/staff/knowledge", params={"tenant": EDITORIAL}, headers=editor,
        files={"file": ("C:\\Users\\redaktion\\familienbuero.md", FACT.encode(), "text/markdown")},
        data={"valid_from": "2026-01-01", "valid_to": ""},
    )
    assert response.status_code == 201, response.text
    assert response.json()["ingested"] == 1 and response.json()["passages"] >= 1
    listed = documents(api, editor)["familienbuero.md"]  # the path the browser sent is gone
    assert listed["title"] == "Sprechstunde im Familienbüro Nordstadt" and listed["valid_from"] == "2026-01-01"
    assert listed["passages"] >= 1 and listed["ingested_at"] and listed["review_due"] is False
    assert listed["changed_by"] == "r.redaktion" and listed["review_due_at"] > listed["ingested_at"][:10]
    found = search(api, editor, FACT_QUESTION)
    assert found["outcome"] == "answered" and found["citations"][0]["source"] == "familienbuero.md", found
    assert "Mittwoch" in found["answer"]
    # Lexical search found it at once; the server's vector worker embeds it in the background.
    store, model = app_server.services.store, app_server.services.embedder.name
    deadline = time.monotonic() + 120
    while store.missing_vectors(model, 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not store.missing_vectors(model, 1)

    # Stored 400 days ago (as if): its review is due.
    import sqlite3

    with sqlite3.connect(app_server.services.settings.home / "amtslotse.db") as db:
        db.execute("UPDATE documents SET ingested_at = ? WHERE tenant = ? AND source = ?",
                   ((datetime.now(timezone.utc) - timedelta(days=400)).isoformat(timespec="seconds"), EDITORIAL, "familienbuero.md"))
    listing = api.get("/api/v1/staff/knowledge", params={"tenant": EDITORIAL}, headers=editor).json()
    assert [d["source"] for d in listing["review_due"]] == ["familienbuero.md"] and listing["review_after_days"] == 365

    deleted = api.delete("/api/v1/staff/knowledge/familienbuero.md", params={"tenant": EDITORIAL}, headers=editor)
    assert deleted.status_code == 200 and deleted.json() == {"deleted": 1}
    assert "familienbuero.md" not in documents(api, editor)
    assert not any(c["source"] == "familienbuero.md" for c in search(api, editor, FACT_QUESTION)["citations"])
    assert api.delete("/api/v1/staff/knowledge/familienbuero.md", params={"tenant": EDITORIAL}, headers=editor).status_code == 404
    trail = audit(api, editor)
    assert trail[:2] == [("r.redaktion", "document_deleted", "familienbuero.md"), ("r.redaktion", "document_uploaded", "familienbuero.md")]


@pytest.mark.parametrize("files, data, status, code, words", [
    ({"file": ("tool.exe", b"MZ", "application/octet-stream")}, {}, 415, "unsupported_type", "wird nicht unterstützt"),
    ({"file": ("kaputt.pdf", b"%PDF-1.4 kein echtes pdf", "application/pdf")}, {}, 422, "upload_failed", "kaputt.pdf: PDF ist beschädigt"),
    ({"file": ("leer.md", b"   ", "text/markdown")}, {}, 422, "upload_failed", "leer.md: Datei ist leer"),
    ({"file": ("a.md", b"# A\n\nText", "text/markdown")}, {"valid_from": "1.1.2026"}, 422, "invalid_date", "JJJJ-MM-TT"),
    ({"file": ("a.md", b"# A\n\nText", "text/markdown")}, {"valid_from": "2026-02-01", "valid_to": "2026-01-01"}, 422, "invalid_request", "Gültig bis"),
])
def test_bad_uploads_get_a_german_error_and_store_nothing(api, editor, files, data, status, code, words):
    before = documents(api, editor)
    response = api.post("/api/v1/staff/knowledge", params={"tenant": EDITORIAL}, headers=editor, files=files, data=data)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code and words in response.json()["error"]["message"]
    assert documents(api, editor) == before


def test_knowledge_needs_the_editorial_role_of_the_tenant(api, editor):
    numbers = login(api, "a.nurzahlen")
    for method, path in (("GET", "/api/v1/staff/knowledge"), ("GET", "/api/v1/staff/curated"),
                         ("DELETE", "/api/v1/staff/knowledge/x.md"), ("DELETE", "/api/v1/staff/curated/x")):
        assert api.request(method, path, params={"tenant": EDITORIAL}, headers=numbers).status_code == 403
        assert api.request(method, path, params={"tenant": EDITORIAL}).status_code == 401
        assert api.request(method, path, params={"tenant": "musterkreis"}, headers=editor).status_code == 403


CURATED = {
    "question": "Bekomme ich einen Zuschuss für die Hundehütte?",
    "alternatives": ["Zahlt das Jobcenter eine Hundehütte?", "Geld für Hundehütte"],
    "answer": "Nein, eine Hundehütte zahlt das Jobcenter nicht; Kosten für Haustiere sind im Regelbedarf enthalten.",
    "sources": [{"citation": "§ 20 SGB II", "url": "https://www.gesetze-im-internet.de/sgb_2/__20.html"}],
    "topic": "haustiere",
}


def test_curated_answers_are_created_changed_and_deleted_and_the_chat_follows(api, editor):
    assert api.get("/api/v1/staff/curated", params={"tenant": EDITORIAL}, headers=editor).json()["items"] == []
    created = api.post("/api/v1/staff/curated", params={"tenant": EDITORIAL}, json=CURATED, headers=editor)
    assert created.status_code == 201, created.text
    ident = created.json()["id"]
    assert ident.startswith("bekomme-ich-einen-zuschuss-fur-die-hundehutte-")
    [listed] = api.get("/api/v1/staff/curated", params={"tenant": EDITORIAL}, headers=editor).json()["items"]
    assert listed == created.json() and listed["alternatives"] == CURATED["alternatives"] and listed["sources"] == CURATED["sources"]
    got = search(api, editor, "Zahlt das Jobcenter eine Hundehütte?")
    assert got["mode"] == "curated" and got["answer"].startswith(CURATED["answer"]) and got["citations"][0]["citation"] == "§ 20 SGB II"

    changed = dict(CURATED, answer="Nein. Haustiere sind Sache des Regelbedarfs.", valid_from="2026-01-01")
    response = api.put(f"/api/v1/staff/curated/{ident}", params={"tenant": EDITORIAL}, json=changed, headers=editor)
    assert response.status_code == 200 and response.json()["valid_from"] == "2026-01-01"
    assert search(api, editor, CURATED["question"])["answer"].startswith("Nein. Haustiere")
    assert api.post("/api/v1/staff/curated", params={"tenant": EDITORIAL}, json=dict(CURATED, id=ident), headers=editor).status_code == 409
    assert api.put("/api/v1/staff/curated/gibt-es-nicht", params={"tenant": EDITORIAL}, json=CURATED, headers=editor).status_code == 404
    bad = api.post("/api/v1/staff/curated", params={"tenant": EDITORIAL}, headers=editor,
                   json=dict(CURATED, valid_from="2026-05-01", valid_to="2026-01-01"))
    assert bad.status_code == 422 and "Gültig bis" in bad.json()["error"]["message"]
    assert api.post("/api/v1/staff/curated", params={"tenant": EDITORIAL}, json={"question": "Nur Frage?"}, headers=editor).json()["error"]["code"] == "invalid_request"

    assert api.delete(f"/api/v1/staff/curated/{ident}", params={"tenant": EDITORIAL}, headers=editor).status_code == 200
    assert api.get("/api/v1/staff/curated", params={"tenant": EDITORIAL}, headers=editor).json()["items"] == []
    assert search(api, editor, CURATED["question"])["mode"] != "curated"
    assert [a for a in audit(api, editor) if a[2] == ident] == [
        ("r.redaktion", "curated_deleted", ident), ("r.redaktion", "curated_updated", ident), ("r.redaktion", "curated_created", ident),
    ]


def test_the_starter_curated_answers_read_back_as_written(api, editor):
    """Read from the stored passages, the musterkreis answers equal the starter file's lines."""
    import json

    from amtslotse.knowledge.starter import starter_dir

    lines = [json.loads(line) for line in (starter_dir() / "musterkreis" / "curated.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    response = api.get("/api/v1/staff/curated", params={"tenant": "musterkreis"}, headers=login(api, "r.muster"))
    assert response.status_code == 200
    items = {i["id"]: i for i in response.json()["items"]}
    assert list(items) == [line["id"] for line in lines]
    for line in lines:
        item = {k: v for k, v in items[line["id"]].items() if v not in (None, [], "")}
        assert item == {k: v for k, v in line.items() if v not in (None, [], "")}, line["id"]


def test_store_reads_of_the_workspace_on_both_stores(store, tmp_path):
    """document_ingested_at and document_passages (store/sql_base.py), SQLite and PostgreSQL,
    and curated answers written and read back through them."""
    from amtslotse.knowledge.curated import CURATED_SOURCE, curated_answers, save_curated_answers
    from amtslotse.knowledge.ingest import ingest_paths
    from amtslotse.settings import Settings

    settings = Settings(home=tmp_path, embedder="none", llm_base_url="", llm_provider="")
    page = tmp_path / "seite.md"
    page.write_text(FACT, encoding="utf-8")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert ingest_paths([page], store, settings, tenant=EDITORIAL, valid_from=datetime(2026, 1, 1).date(), workers=0).ingested == 1
    stamps = store.document_ingested_at(EDITORIAL)
    assert list(stamps) == [("seite.md", datetime(2026, 1, 1).date())]
    assert before <= stamps[("seite.md", datetime(2026, 1, 1).date())] <= datetime.now(timezone.utc)
    assert store.document_ingested_at("musterkreis") == {}  # another tenant's documents stay invisible
    assert "Mittwoch" in " ".join(p.text for p in store.document_passages(EDITORIAL, "seite.md"))
    assert store.document_passages("musterkreis", "seite.md") == []

    long_answer = "Erster Absatz. " * 400  # longer than 3 x page_split_chars: the splitter cuts it
    items = [dict(CURATED, id="hund", valid_from="2026-01-01", valid_to=None), {"id": "lang", "question": "Lange Antwort?", "answer": long_answer.strip()}]
    assert not save_curated_answers(store, settings, EDITORIAL, items).failed
    assert len(store.document_passages(EDITORIAL, CURATED_SOURCE)) > 2
    read = curated_answers(store, EDITORIAL)
    assert [i["id"] for i in read] == ["hund", "lang"]
    assert {k: v for k, v in read[0].items() if v not in (None, [])} == {k: v for k, v in items[0].items() if v is not None}
    assert " ".join(read[1]["answer"].split()) == " ".join(long_answer.split())
    save_curated_answers(store, settings, EDITORIAL, [])
    assert curated_answers(store, EDITORIAL) == [] and ("seite.md", datetime(2026, 1, 1).date()) in store.document_ingested_at(EDITORIAL)
