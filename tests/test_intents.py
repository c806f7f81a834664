"""Intent screening: the guard's rules with the intent model beside them (amtslotse.screening).

tests/data/intents_holdout.jsonl was written after the training set
(src/amtslotse/data/screening/intents_train.jsonl) was frozen; neither holds a real question.
The floors below sit a few messages under the figures of `python -m amtslotse.screening.evaluate`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from amtslotse.ask import texts
from amtslotse.screening.guard import AUTHORITIES, OUTCOMES, URGENT_KINDS, check
from amtslotse.screening import model as screening
from amtslotse.screening.evaluate import HOLDOUT, dev_figures, holdout_figures, read_dev_questions, read_holdout
from amtslotse.ask.emergency import NATIONAL_EMERGENCY_CONTACTS, EmergencyContact, emergency_contacts_for
from amtslotse.tenants import TenantConfigError, load_tenant_file
from shared_data import requires_shared

TRAIN = screening.read_examples(screening.training_file())
HELD_OUT = read_holdout()
MUSTERKREIS = Path(__file__).resolve().parents[1] / "src" / "amtslotse" / "data" / "starter" / "tenants" / "musterkreis.toml"


# ---------------------------------------------------------------- the data

def test_training_set_shape():
    labels = Counter(e.label for e in TRAIN)
    assert len(TRAIN) >= 800 and set(labels) == set(screening.LABELS)
    assert labels["answer"] >= 300 and labels["own_case"] >= 100 and all(labels[k] >= 40 for k in URGENT_KINDS)
    languages = Counter(e.language for e in TRAIN)
    assert set(languages) == set(screening.LANGUAGES) and all(n >= 80 for n in languages.values())
    assert len({e.text.casefold() for e in TRAIN}) == len(TRAIN)


def test_held_out_set_is_apart_from_the_training_set():
    assert len(HELD_OUT) >= 140 and len({r["id"] for r in HELD_OUT}) == len(HELD_OUT)
    assert {r["label"] for r in HELD_OUT} == set(screening.LABELS)
    assert {r["language"] for r in HELD_OUT} == set(screening.LANGUAGES)
    assert not {r["text"].casefold() for r in HELD_OUT} & {e.text.casefold() for e in TRAIN}
    assert all(r["authority"] in AUTHORITIES for r in HELD_OUT if r["label"] == "authority")


# ---------------------------------------------------------------- the model

def test_fast_scores_equal_scikit_learn():
    model = screening.default_model()
    sample = [r["text"] for r in HELD_OUT[::7]]
    fast = np.array([[model.scores(t).probs[label] for label in screening.LABELS] for t in sample])
    assert np.allclose(fast, model.predict_proba(sample), atol=1e-9)


def test_model_is_cached_on_disk(tmp_path):
    first = screening.load_model(home=tmp_path)
    cached = list((tmp_path / "models").glob("screening-*.pkl"))
    assert len(cached) == 1
    screening._LOADED.clear()  # as a new process would: read from the disk cache
    again = screening.load_model(home=tmp_path)
    text = "Warum ist mein Geld noch nicht da?"
    assert again.scores(text) == first.scores(text)


def test_training_data_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "train.jsonl"
    bad.write_text('{"text": "Hallo", "label": "answer", "language": "de"}\n{"text": "x", "label": "notfall", "language": "de"}\n',
                   "utf-8")
    with pytest.raises(ValueError, match="train.jsonl.*2.*notfall"):
        screening.read_examples(bad)


# ---------------------------------------------------------------- held-out figures

@pytest.fixture(scope="module")
def figures():
    return holdout_figures(HELD_OUT, "both")["all"]


def _rate(value: tuple[int, int]) -> float:
    return value[0] / value[1]


def test_held_out_emergencies_recall_first(figures):
    assert _rate(figures["urgent recall"]) >= 0.94, figures
    assert _rate(figures["urgent kind"]) >= 0.92, figures


def test_held_out_own_case_and_authority(figures):
    assert _rate(figures["own-case recall"]) >= 0.85, figures
    assert _rate(figures["authority recall"]) >= 0.9 and _rate(figures["authority key"]) >= 0.9, figures


def test_held_out_answerable_questions_stay_answered(figures):
    assert _rate(figures["answer flagged"]) <= 0.05, figures


def test_held_out_every_language():
    for language, f in holdout_figures(HELD_OUT, "both").items():
        assert _rate(f["urgent recall"]) >= 0.8, (language, f)
        assert _rate(f["answer flagged"]) <= 0.34, (language, f)  # three answerable messages per language


@requires_shared("eval/real_questions/questions.jsonl")
def test_real_question_dev_items(shared_dir):
    """Only the DEV items of the real-question set (tests/data/real_questions/split.json)."""
    rows = read_dev_questions(shared_dir / "eval" / "real_questions" / "questions.jsonl")
    counts, misses = dev_figures(rows, "both")
    assert _rate(counts["answer flagged"]) <= 0.05, misses
    assert _rate(counts["urgent recall"]) >= 0.8, misses
    assert _rate(counts["handover recall"]) >= 0.66, misses
    assert _rate(counts["out_of_scope recall"]) >= 0.66, misses


# ---------------------------------------------------------------- the brief's cases, one by one

@pytest.mark.parametrize("text", [
    "Warum ist mein Geld diesen Monat noch nicht gekommen?",
    "Ist mein Antrag vom 14. Mai schon bearbeitet?",
    "wann kommt mein geld",
    "Warum wurde mir gekürzt?",
    "Wer ist mein Ansprechpartner?",
    "Stimmt mein Bescheid?",
    "Why hasn't my money come this month?",
    "Has my application of 2 June been processed yet?",
    "Чому цього місяця не прийшли мої гроші?",
    "Почему в этом месяце не пришли мои деньги?",
    "Bu ay param neden yatmadı?",
    "لماذا لم يصل مالي هذا الشهر؟",
])
def test_own_case_is_handed_over(text):
    assert check(text).outcome == "handover", check(text)


@pytest.mark.parametrize("text", [
    "Darf ich als Student Grundsicherungsgeld bekommen?",
    "Ich habe 3000 Euro gespart, ist das ein Problem?",
    "Wie viel darf ich beim Minijob verdienen?",
    "Muss ich mein Auto verkaufen?",
])
def test_general_first_person_questions_get_the_general_rule(text):
    assert check(text).outcome == "answer", check(text)


@pytest.mark.parametrize("text, kind", [
    ("Wir haben nichts mehr zu essen im Haus", "hunger"),
    ("Wir müssen raus aus der Wohnung – was nun?", "eviction"),
    ("Der Vermieter hat uns fristlos gekündigt", "eviction"),
    ("Die Stadtwerke haben die Sperre für Montag angekündigt", "energy"),
    ("Ich weiß nicht, wo ich heute Nacht schlafen soll", "homeless"),
    ("Ich schlafe seit Tagen im Auto", "homeless"),
    ("Wie komme ich von meinem gewalttätigen Mann weg, ohne eigenes Geld?", "violence"),
    ("Ich will nicht mehr leben", "suicide"),
    ("We have to leave our flat – what now?", "eviction"),
    ("I have nowhere to sleep tonight", "homeless"),
])
def test_emergencies_with_their_kind(text, kind):
    assert check(text).urgent == kind, check(text)


@pytest.mark.parametrize("text", [
    "Übernimmt das Jobcenter alte Stromschulden?",
    "Was passiert bei Mietschulden?",
    "Ich hatte 2023 eine Stromsperre, die ist erledigt. Muss ich das angeben?",
    "Was passiert, wenn ich obdachlos werde?",
    "Können Obdachlose Grundsicherungsgeld bekommen?",
])
def test_general_or_past_questions_are_not_urgent(text):
    assert check(text).urgent is None, check(text)


@pytest.mark.parametrize("text, key", [
    ("Wie hoch ist das Elterngeld?", "elterngeldstelle"),
    ("Wie beantrage ich Kindergeld?", "familienkasse"),
    ("Wie beantrage ich einen Pflegegrad?", "pflegekasse"),
    ("Wie hoch ist der BAföG-Höchstsatz?", "bafoeg_amt"),
    ("Wo beantrage ich einen Schwerbehindertenausweis?", "versorgungsamt"),
    ("Wie kann ich mich vom Rundfunkbeitrag befreien?", "beitragsservice"),
    ("Wo beantrage ich Asylbewerberleistungen?", "sozialamt_asylblg"),
    ("Wie lange bekomme ich Krankengeld?", "krankenkasse"),
    ("Wann kann ich in Rente gehen?", "rentenversicherung"),
    ("Was ist der Unterhaltsvorschuss?", "jugendamt"),
    ("How do I apply for child benefit?", "familienkasse"),
])
def test_questions_for_another_authority(text, key):
    v = check(text)
    assert (v.outcome, v.authority) == ("authority", key), v


@pytest.mark.parametrize("text", [
    "Wird Kindergeld angerechnet?",
    "Kann ich Elterngeld bekommen, wenn ich Grundsicherungsgeld beziehe?",
    "Muss ich Pflegegeld beim Jobcenter angeben?",
    "Wie viel Wohngeld bekomme ich?",
    "Wie hoch ist das Arbeitslosengeld?",
])
def test_questions_answered_from_the_jobcenter_side_stay_answers(text):
    v = check(text)
    assert v.authority is None and v.outcome == "answer", v


def test_priority_order_and_texts():
    assert OUTCOMES.index("handover") < OUTCOMES.index("authority") < OUTCOMES.index("refuse")
    assert set(texts.AUTHORITY) == set(AUTHORITIES) and set(texts.URGENT) == set(URGENT_KINDS)
    assert all("nicht das Jobcenter" in text and text.count(".") <= 3 for text in texts.AUTHORITY.values())
    assert check("Schreib mir ein Gedicht über das Kindergeld").outcome == "refuse"


def test_model_reason_codes_carry_no_user_text():
    v = check("Heute Nacht penne ich wohl unter einer Brücke, weil alles weg ist")
    assert v.urgent == "homeless"
    assert all(":" in r for r in v.reasons)


# ---------------------------------------------------------------- contacts that fit the kind

def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_contacts_fit_the_kind():
    contacts = load_tenant_file(MUSTERKREIS).emergency_contacts
    phones = {kind: [_digits(c.phone) for c in emergency_contacts_for(contacts, kind)] for kind in URGENT_KINDS}
    assert {"110", "116016"} <= set(phones["violence"])
    assert "08001110111" in phones["suicide"] and "110" not in phones["suicide"]
    for kind in ("hunger", "eviction", "energy", "homeless"):
        assert phones[kind] == ["01234567899"], phones[kind]  # the Jobcenter's emergency number only


def test_violence_and_suicide_always_get_the_national_numbers():
    assert [c.phone for c in emergency_contacts_for((), "violence")] == ["110", "112", "116 016"]
    assert [c.phone for c in emergency_contacts_for((), "suicide")] == ["112", "0800 111 0 111"]
    assert emergency_contacts_for((), "hunger") == []


def test_urgent_texts_repeat_no_number_of_the_contacts():
    numbers = {_digits(c.phone) for c in (*load_tenant_file(MUSTERKREIS).emergency_contacts, *NATIONAL_EMERGENCY_CONTACTS)}
    for kind, text in texts.URGENT.items():
        assert not any(n and n in _digits(text) for n in numbers), kind
        assert not re.search(r"\d{3}", text), kind


def test_contact_kinds_are_checked(tmp_path):
    assert EmergencyContact("Jobcenter", kinds=["hunger"]).kinds == ("hunger",)  # a TOML list
    tenant = tmp_path / "probe.toml"
    tenant.write_text('name = "Probe"\n[[emergency_contacts]]\nlabel = "X"\nkinds = ["hungry"]\n', "utf-8")
    with pytest.raises(TenantConfigError, match="hungry"):
        load_tenant_file(tenant)


def test_stored_contacts_read_back():
    """Answers store `vars(contact)` as JSON; evaluation/grounding.py rebuilds the contact."""
    contact = NATIONAL_EMERGENCY_CONTACTS[0]
    again = EmergencyContact(**json.loads(json.dumps(vars(contact))))
    assert again == contact and again.line() == contact.line()


def test_holdout_file_is_the_one_measured():
    assert HOLDOUT.name == "intents_holdout.jsonl" and HOLDOUT.is_file()
