"""Every setting is documented (the datasette pattern): docs/settings.md holds the table the
code generates; a new or changed setting without docs fails here."""

from pathlib import Path

from amtslotse.settings import Settings, settings_table

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_has_a_description():
    assert all(field.description for field in Settings.model_fields.values())


def test_docs_list_all_settings():
    assert settings_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/settings.md is out of date: regenerate the table with `python -m amtslotse.settings`"
    )
