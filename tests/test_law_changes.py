"""Curated answers are flagged for review when a § they cite changes in a newer law version."""

from __future__ import annotations

import json
from datetime import date

from amtslotse.knowledge.ingest import ingest_paths
from amtslotse.knowledge.law_changes import curated_review_due
from amtslotse.settings import Settings

LAW_V1 = "% Testgesetz\n\n# § 1 – Regelbedarf\n\n(1) Der Regelbedarf beträgt 500 Euro.\n\n# § 2 – Miete\n\n(1) Die Miete wird übernommen, soweit sie angemessen ist.\n"
LAW_V2 = LAW_V1.replace("500 Euro", "520 Euro")


def test_an_answer_citing_a_changed_section_is_due_until_it_is_renewed(store, tmp_path):
    settings = Settings(home=tmp_path / "home", embedder="none")
    old, new = tmp_path / "v1", tmp_path / "v2"
    old.mkdir(), new.mkdir()
    (old / "TG-BJNR000000001.md").write_text(LAW_V1, encoding="utf-8")
    (new / "TG-BJNR000000001.md").write_text(LAW_V2, encoding="utf-8")
    ingest_paths([old], store, settings, tenant="bund", valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), workers=0)
    ingest_paths([new], store, settings, tenant="bund", valid_from=date(2027, 1, 1), workers=0)

    def curated(valid_from: str) -> None:
        rows = [
            {"id": "regelbedarf", "question": "Wie hoch ist der Regelbedarf?", "answer": "500 Euro im Monat.",
             "sources": [{"citation": "§ 1 TG", "source": "TG-BJNR000000001.md", "section": "§ 1"}], "valid_from": valid_from},
            {"id": "miete", "question": "Zahlt ihr die Miete?", "answer": "Ja, soweit angemessen.",
             "sources": [{"citation": "§ 2 TG", "source": "TG-BJNR000000001.md", "section": "§ 2"}], "valid_from": valid_from},
        ]
        path = tmp_path / "curated.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
        ingest_paths([path], store, settings, tenant="musterkreis", workers=0)

    curated("2026-01-01")
    due = curated_review_due(store, "musterkreis")
    assert [(d["curated_id"], d["section"], d["changed_on"]) for d in due] == [("regelbedarf", "§ 1", "2027-01-01")]
    curated("2027-01-01")  # the editor renewed the answers for the new law
    assert curated_review_due(store, "musterkreis") == []


def test_amtslotse_check_lists_the_answers_due_for_review(tmp_path):
    from loopback_app import cli_in_process as cli  # test_ingest_search runs the same commands in subprocesses (slow)

    home, old, new = tmp_path / "home", tmp_path / "v1", tmp_path / "v2"
    old.mkdir(), new.mkdir()
    (old / "TG-BJNR000000001.md").write_text(LAW_V1, encoding="utf-8")
    (new / "TG-BJNR000000001.md").write_text(LAW_V2, encoding="utf-8")
    curated = tmp_path / "curated.jsonl"
    curated.write_text(json.dumps({
        "id": "regelbedarf", "question": "Wie hoch ist der Regelbedarf?", "answer": "500 Euro im Monat.",
        "sources": [{"citation": "§ 1 TG", "source": "TG-BJNR000000001.md", "section": "§ 1"}], "valid_from": "2026-01-01",
    }, ensure_ascii=False) + "\n", encoding="utf-8")
    for args in (("ingest", str(old), "--valid-from", "2026-01-01", "--valid-to", "2026-12-31"),
                 ("ingest", str(new), "--valid-from", "2027-01-01"), ("ingest", str(curated), "--tenant", "musterkreis")):
        done = cli(home, *args)
        assert done.returncode == 0, done.stderr
    done = cli(home, "check", "--tenant", "musterkreis")
    assert "Prüfung fällig: musterkreis: „Wie hoch ist der Regelbedarf?“ (regelbedarf, curated.jsonl) zitiert § 1 TG, geändert ab 2027-01-01" in done.stdout, done.stdout + done.stderr
    assert "1 kuratierte Antwort(en): Prüfung fällig" in done.stderr
