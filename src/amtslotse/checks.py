"""`amtslotse check`: every data file the product reads, checked before it is used.

Each problem names the file and, where the format has lines, the line, in German, so that an
editor can fix a word list or a tenant file without reading code::

    problems, checked = run_checks(settings, tenant="musterkreis")
    for problem in problems:
        print(problem)   # .../routing-musterkreis.tsv, Zeile 4: unbekannte Kategorie wohnen

    >>> str(Problem("data/inbox/routing.tsv", 4, "unbekannte Kategorie wohnen"))
    'data/inbox/routing.tsv, Zeile 4: unbekannte Kategorie wohnen'

What is checked: the bundled lists (data/guard, data/inbox, data/keywords, data/vocabulary,
data/lexicon, data/privacy, data/scope, data/screening), the calibration models
(data/calibration/model.json), the starter pack's curated answers (JSONL), the tenant files
(the starter's and those in AMTSLOTSE_TENANTS_DIR, or only the one `tenant`) with their own
routing file and own folder (`<tenant>/`: flags/, cues/, checklists.toml, routing.tsv, checked
as the bundled ones, the checklists and routing rules against the tenant's own categories;
anything else in it is named), and the tenant's own vocabulary and keyword files. Line-based formats whose
reader can collect problems (flag and cue word lists, routing rules, checklists, two-column
TSV files, the scope's benefit words, the screening model's examples) report every bad line; the calibration
models report every problem at the line of its key; the others report the first problem their
reader finds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from amtslotse.ask.choose import CURATED_FEATURES
from amtslotse.ask.pipeline import EXTRACTIVE_FEATURES
from amtslotse.ask.scope import parse_benefits
from amtslotse.categories import CATEGORIES, TENANT_ROUTING, InboxConfig
from amtslotse.errors import UserError
from amtslotse.inbox.checklists import CHECKLISTS, parse_checklists
from amtslotse.inbox.classify import read_examples
from amtslotse.inbox.flags import SECTIONS, read_phrase_file
from amtslotse.inbox.routing import parse_rules
from amtslotse.knowledge.loaders import load_file
from amtslotse.screening.guard import rules
from amtslotse.screening.language import detect_language
from amtslotse.screening.model import read_examples as read_intents
from amtslotse.search import thesaurus, tsv_data, vocabulary
from amtslotse.settings import Settings
from amtslotse.tenants import TENANT_NAME, load_tenant_file
from amtslotse.text.fold import fix_typos
from amtslotse.text.names import parse_names


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one data file (German message)."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}, Zeile {self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass
class _Run:
    data: Path  # the bundled data folder (another one in tests)
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0

    def file(self, path: Path | str) -> None:
        self.checked += 1

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        self.problems.append(Problem(str(path), line, message))

    def lines(self, path: Path | str, found: Iterable[tuple[int, str]]) -> None:
        for line, message in found:
            self.add(path, line, message)

    def error(self, path: Path | str, error: BaseException) -> None:
        """A reader's exception: its line ("..., Zeile N: ...") and message, without the file prefix."""
        text = str(error)
        match = re.search(r"Zeile (\d+):\s*(.*)", text, flags=re.S)
        if match:
            self.add(path, int(match.group(1)), match.group(2).strip())
            return
        name = Path(str(path)).name
        for prefix in (f"{path}: ", f"{name}: "):
            text = text.removeprefix(prefix)
        if not isinstance(error, (UserError, ValueError, OSError)):
            text = f"{type(error).__name__}: {text}"
        self.add(path, None, text)

    def attempt(self, path: Path | str, function: Callable[[], object]) -> object | None:
        """Run a reader; its failure becomes a problem of `path` (a data file is never a crash)."""
        try:
            return function()
        except Exception as error:  # noqa: BLE001 - any failure of a reader is a problem of the file
            self.error(path, error)
            return None


def data_dir() -> Path:
    """The bundled data folder (src/amtslotse/data)."""
    return Path(str(resources.files("amtslotse").joinpath("data")))


def run_checks(settings: Settings, tenant: str | None = None, data: Path | None = None) -> tuple[list[Problem], int]:
    """All problems (sorted by file and line) and the number of files checked. With `tenant`,
    only that tenant's files besides the bundled ones; `data`: a copy of the data folder to
    check instead of the bundled one (its guard rules are read from the package all the same)."""
    run = _Run(Path(data) if data is not None else data_dir())
    _guard(run)
    _inbox(run)
    for kind in ("vocabulary", "keywords"):
        for path in sorted((run.data / kind).glob("*.tsv")):
            _two_columns(run, path, kind)
    _lexicon(run)
    _privacy(run)
    _scope(run)
    _screening(run)
    _calibration(run)
    _curated(run)
    _tenants(run, settings, tenant)
    return sorted(run.problems, key=lambda p: (p.path, p.line or 0)), run.checked


# --- the bundled lists -------------------------------------------------------------------------


def _read(run: _Run, path: Path) -> str | None:
    run.file(path)
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        run.add(path, line, "kein UTF-8-Text (Datei bitte als UTF-8 speichern)")
    except OSError as error:
        run.add(path, None, f"nicht lesbar ({error.strerror})")
    return None


def _guard(run: _Run) -> None:
    """The screening rules: every file read, then the guard's own reader over all of them."""
    folder = run.data / "guard"
    for path in sorted(folder.glob("*.rules")):
        _read(run, path)
    words = folder / "language_words.txt"
    text = _read(run, words)
    if text is not None:
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if line and not line.startswith("#") and not re.match(r"^[a-z]{2,3}:\s*\S", line):
                run.add(words, number, "erwartet „Sprachcode: Wort Wort ...“, z. B. „de: ich du nicht“")
    typos = folder / "typos.tsv"
    text = _read(run, typos)
    if text is not None:
        run.lines(typos, _tab_problems(text, "falscher und richtiger Schreibweise"))

    def load() -> None:
        # The rules and the word lists as the guard reads them; not the screening model (its
        # training data is checked apart, and loading it would train it in a fresh home).
        rules()
        detect_language("Hallo, wie stelle ich einen Antrag?")
        fix_typos("Hallo, wie stelle ich einen Antrag?")

    run.attempt(folder, load)


PHRASE_LISTS = (("flags", SECTIONS), ("cues", tuple(CATEGORIES)))
"""The inbox's word-list folders and the sections their files may have (bundled and a tenant's)."""


def _inbox(run: _Run) -> None:
    folder = run.data / "inbox"
    _inbox_lists(run, folder, CATEGORIES)
    _routing(run, folder / "routing.tsv", CATEGORIES)
    train = folder / "train.jsonl"
    run.file(train)
    run.attempt(train, lambda: read_examples(train))


def _inbox_lists(run: _Run, folder: Path, categories: Iterable[str]) -> None:
    """The flag and cue word lists and the checklists of a folder (data/inbox, or a tenant's
    own folder, whose checklists may also name the tenant's own categories)."""
    for name, sections in PHRASE_LISTS:
        for path in sorted((folder / name).glob("*.txt")):
            text = _read(run, path)
            if text is not None:
                found: list[tuple[int, str]] = []
                read_phrase_file(text, str(path), path.stem, sections, found)
                run.lines(path, found)
    checklists = folder / CHECKLISTS
    if checklists.is_file() or folder == run.data / "inbox":
        text = _read(run, checklists)
        if text is not None:
            problems: list[tuple[int | None, str]] = []
            parse_checklists(text, str(checklists), categories, problems)
            for line, message in problems:
                run.add(checklists, line, message)


def _tenant_folder(run: _Run, folder: Path, categories: Iterable[str]) -> None:
    """A tenant's own folder: its lists (its routing.tsv is checked as the tenant's routing
    file), and nothing else in it (a misspelt name would be silently ignored)."""
    _inbox_lists(run, folder, categories)
    expected = [f"{name}/" for name, _ in PHRASE_LISTS] + [CHECKLISTS, TENANT_ROUTING]
    for entry in sorted(folder.iterdir()):
        if (f"{entry.name}/" if entry.is_dir() else entry.name) not in expected:
            run.add(entry, None, f"unbekannt im Ordner des Mandanten (erwartet: {', '.join(expected)})")


def _routing(run: _Run, path: Path, categories: Iterable[str]) -> None:
    text = _read(run, path)
    if text is not None:
        found: list[tuple[int, str]] = []
        parse_rules(text, path.name, categories, found)
        run.lines(path, found)


def _tab_problems(text: str, columns: str) -> list[tuple[int, str]]:
    """Lines of a two-column file without the tab between the columns (every one)."""
    found: list[tuple[int, str]] = []
    tsv_data.rows(text, "", columns, found)
    return found


def _two_columns(run: _Run, path: Path, kind: str) -> None:
    """A vocabulary or keywords file (bundled or a tenant's)."""
    text = _read(run, path)
    if text is None:
        return
    columns = "Alltagswort und Fachbegriffen" if kind == "vocabulary" else "Fundstelle und Schlagwörtern"
    problems = _tab_problems(text, columns)
    run.lines(path, problems)
    if kind == "vocabulary" and not problems:
        run.attempt(path, lambda: vocabulary.parse(text, str(path)))


def _lexicon(run: _Run) -> None:
    folder = run.data / "lexicon"
    for path in sorted(folder.glob("*.txt")):
        text = _read(run, path)
        if text is not None:
            run.lines(path, _word_list_problems(text, allow=";" if "synonyms" in path.name else ""))
    run.attempt(folder / "de_synonyms.txt", thesaurus.synsets)


def _privacy(run: _Run) -> None:
    for path in sorted((run.data / "privacy").glob("*.txt")):
        text = _read(run, path)
        if text is not None:
            run.lines(path, _word_list_problems(text))


def _word_list_problems(text: str, allow: str = "") -> list[tuple[int, str]]:
    """One entry per line: no tabs or control characters (a pasted table, a stray byte)."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("#") or not raw.strip():
            continue
        if "\t" in raw and "\t" not in allow:
            found.append((number, "Tabulator in einer Wortliste: bitte ein Eintrag je Zeile"))
        elif any(ord(c) < 32 for c in raw):
            found.append((number, "Steuerzeichen in der Zeile"))
    return found


def _scope(run: _Run) -> None:
    """Which law a question means (data/scope/benefits.tsv, read as ask/scope.py reads it) and the
    other names of a benefit (data/scope/names.tsv, read as text/names.py reads it)."""
    for name, parse in (("benefits.tsv", parse_benefits), ("names.tsv", parse_names)):
        path = run.data / "scope" / name
        text = _read(run, path)
        if text is not None:
            found: list[tuple[int, str]] = []
            parse(text, path.name, found)
            run.lines(path, found)


def _screening(run: _Run) -> None:
    """The screening model's examples (data/screening), read as its training reads them."""
    for path in sorted((run.data / "screening").glob("*.jsonl")):
        if _read(run, path) is not None:
            found: list[tuple[int, str]] = []
            run.attempt(path, lambda path=path, found=found: read_intents(path, found))
            run.lines(path, found)


def _calibration(run: _Run) -> None:
    """The calibration models (data/calibration/model.json, read by ask/calibration.py): per
    embedder and way of answering, weights (numbers, for features the code produces), a bias
    and a threshold from 0 to 1. JSON gives no positions: a problem gets the line of its key."""
    path = run.data / "calibration" / "model.json"
    text = _read(run, path)
    if text is None:
        return
    try:
        models = json.loads(text)
    except json.JSONDecodeError as error:
        run.add(path, error.lineno, f"kein gültiges JSON ({error.msg})")
        return
    if not isinstance(models, dict):
        run.add(path, 1, "erwartet ein JSON-Objekt: Einbettungsmodell → Art der Antwort → Modell")
        return
    features = {"curated": CURATED_FEATURES, "extractive": EXTRACTIVE_FEATURES}
    for embedder, ways in models.items():
        if not isinstance(ways, dict):
            run.add(path, _json_line(text, embedder), f"„{embedder}“: erwartet ein Objekt mit curated und/oder extractive")
            continue
        for way, model in ways.items():
            where, line = f"„{embedder}“ → {way}", _json_line(text, embedder, way)
            if way not in features:
                run.add(path, line, f"{where}: unbekannte Art der Antwort (erlaubt: {', '.join(features)})")
                continue
            if not isinstance(model, dict):
                run.add(path, line, f"{where}: erwartet ein Objekt mit weights, bias und threshold")
                continue
            for key in ("weights", "bias", "threshold"):
                if key not in model:
                    run.add(path, line, f"{where}: „{key}“ fehlt")
            weights = model.get("weights", {})
            if not isinstance(weights, dict):
                run.add(path, _json_line(text, embedder, way, "weights"), f"{where}: „weights“ ist kein Objekt (Merkmal: Zahl)")
                weights = {}
            for name, weight in weights.items():
                at = _json_line(text, embedder, way, "weights", name)
                if name not in features[way]:
                    run.add(path, at, f"{where}: unbekanntes Merkmal „{name}“ (erlaubt: {', '.join(features[way])})")
                elif not _number(weight):
                    run.add(path, at, f"{where}: das Gewicht von „{name}“ ist keine Zahl")
            if "bias" in model and not _number(model["bias"]):
                run.add(path, _json_line(text, embedder, way, "bias"), f"{where}: „bias“ ist keine Zahl")
            threshold = model.get("threshold", 0.0)
            if not (_number(threshold) and 0 <= threshold <= 1):
                run.add(path, _json_line(text, embedder, way, "threshold"), f"{where}: „threshold“ muss eine Zahl von 0 bis 1 sein")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _json_line(text: str, *keys: str) -> int | None:
    """The line of a nested key in a JSON text: each key searched after the one before it."""
    start, line = 0, None
    for key in keys:
        match = re.compile(rf"{re.escape(json.dumps(key, ensure_ascii=False))}\s*:").search(text, start)
        if match is None:
            return line
        start, line = match.end(), text.count("\n", 0, match.start()) + 1
    return line


def _curated(run: _Run) -> None:
    """The starter pack's curated answers, read as the ingest reads them."""
    starter = run.data / "starter"
    for path in sorted(starter.rglob("*.jsonl")):
        run.file(path)
        run.attempt(path, lambda path=path: load_file(path, tenant=path.relative_to(starter).parts[0]))


# --- tenants ------------------------------------------------------------------------------------


def tenant_files(settings: Settings, tenant: str | None = None, data: Path | None = None) -> list[Path]:
    """The tenant files the product may read: the starter's and the operator's (all, or `tenant`'s)."""
    folders = [(data or data_dir()) / "starter" / "tenants", settings.tenants_dir or settings.home / "tenants"]
    files = [path for folder in folders if folder.is_dir() for path in sorted(folder.glob("*.toml"))]
    return [path for path in files if tenant is None or path.stem == tenant]


def _tenants(run: _Run, settings: Settings, tenant: str | None) -> None:
    files = tenant_files(settings, tenant, run.data)
    if tenant is not None and not files:
        run.add(settings.tenants_dir or settings.home / "tenants", None,
                f"keine Mandanten-Datei {tenant}.toml gefunden (der Mandant bekommt die Voreinstellungen)")
    for path in files:
        run.file(path)
        if not TENANT_NAME.match(path.stem):
            run.add(path, None, "der Dateiname ist kein gültiger Mandantenname (Kleinbuchstaben, Ziffern, - und _)")
            continue
        config = run.attempt(path, lambda path=path: load_tenant_file(path))
        if config is None:
            _locate_key(run, path)
            continue
        inbox = run.attempt(path, config.inbox)  # type: ignore[attr-defined]
        run.attempt(path, config.analytics)  # type: ignore[attr-defined]
        if not isinstance(inbox, InboxConfig):
            continue
        if inbox.routing is not None:
            if Path(inbox.routing).is_file():
                _routing(run, Path(inbox.routing), inbox.labels)
            else:
                run.add(path, _line_of(path, "routing"), f"die Routing-Datei {inbox.routing} gibt es nicht")
        if inbox.folder is not None and inbox.folder.is_dir():
            _tenant_folder(run, inbox.folder, inbox.labels)
    _folders_without_toml(run, settings, tenant)
    names = [tenant] if tenant is not None else sorted({p.stem for p in files})
    for kind in ("vocabulary", "keywords"):
        for name in names:
            for origin, _text in tsv_data.read_files(kind, name, tsv_data.folders(settings, kind))[1:]:  # [0]: the bundled file
                _two_columns(run, Path(origin), kind)


def _folders_without_toml(run: _Run, settings: Settings, tenant: str | None) -> None:
    """The own folders of tenants without a TOML file (their lists count all the same)."""
    folder = settings.tenants_root
    if not folder.is_dir():
        return
    configured = {path.stem for path in tenant_files(settings, data=run.data)}
    for own in sorted(folder.iterdir()):
        if own.is_dir() and TENANT_NAME.match(own.name) and own.name not in configured and tenant in (None, own.name):
            _tenant_folder(run, own, CATEGORIES)


def _locate_key(run: _Run, path: Path) -> None:
    """A tenant file's unknown key gets the line it is on (tomllib gives no positions)."""
    last = run.problems[-1]
    match = re.search(r"„([^“]+)“", last.message)
    if last.path == str(path) and last.line is None and match and "Schlüssel" in last.message:
        run.problems[-1] = Problem(last.path, _line_of(path, match.group(1)), last.message)


def _line_of(path: Path, key: str) -> int | None:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    return next((number for number, line in enumerate(lines, start=1) if pattern.match(line)), None)
