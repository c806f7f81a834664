"""Loaders: one source file -> one `Document` (ingest flow, first step).

Every format ends up as normalised Markdown-like text (headings as `#` lines) so that the
splitter can cut by structure whatever the original format was; JSONL arrives already cut
and becomes `Record`s. A file that cannot be read raises `LoaderError` with a German
message meant for the person running the import, never a raw traceback.

Example:
    doc = load_file(Path("SGB_2-BJNR295500003.md"), tenant="bund", valid_from=None, valid_to=None)
    doc.kind, doc.law  # ("law", "SGB II")
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from amtslotse.models import SHARED_TENANT, Document, Record

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".txt", ".jsonl"})


class LoaderError(Exception):
    """A source file that cannot be loaded; `message` is German and names no internals."""

    def __init__(self, path: Path, message: str):
        super().__init__(f"{path.name}: {message}")
        self.path = path
        self.message = message


def iter_source_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders recursively (sorted, hidden and Office lock files skipped, supported
    formats only). A file named explicitly is always yielded, so that an unsupported or
    missing one gets its error from `load_file` instead of being silently ignored."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        for candidate in sorted(path.rglob("*")):
            parts = candidate.relative_to(path).parts
            if any(p.startswith((".", "~$")) for p in parts):
                continue
            if candidate.is_file() and candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                yield candidate


def load_file(
    path: Path,
    *,
    tenant: str = SHARED_TENANT,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Document:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(path, f"Dateiformat {suffix or '(ohne Endung)'} wird nicht unterstützt")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LoaderError(path, "Datei nicht gefunden") from None
    except OSError as exc:
        raise LoaderError(path, f"Datei kann nicht gelesen werden ({exc.strerror or exc})") from None
    if not data.strip():
        raise LoaderError(path, "Datei ist leer")

    doc = Document(source=path.name, title=path.stem, tenant=tenant, valid_from=valid_from, valid_to=valid_to)
    _READERS[suffix](path, data, doc)
    doc.title = " ".join(normalize_text(doc.title).split()) or path.stem
    doc.text = normalize_text(doc.text).strip()
    if not doc.text and not doc.records:
        raise LoaderError(path, "Datei enthält keinen Text")
    meta = f"\0{tenant}\0{valid_from}\0{valid_to}\0{doc.url}".encode()
    doc.content_hash = hashlib.sha256(data + meta).hexdigest()
    return doc


def read_text_of(name: str, data: bytes) -> str:
    """The text of a file held in memory (an HTML mail body, a DOCX attachment), read by the
    reader of its suffix as for ingest (headings as `#` lines, tables as rows), before
    `normalize_text`. Raises LoaderError (German) for an unknown suffix or a broken file.

    >>> read_text_of("mail.html", b"<p>Guten Tag,</p><script>x()</script><p>anbei.</p>")
    'Guten Tag,\\n\\nanbei.'
    """
    path = Path(name)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise LoaderError(path, f"Dateiformat {path.suffix or '(ohne Endung)'} wird nicht unterstützt")
    doc = Document(source=name, title="")
    reader(path, data, doc)
    return doc.text


# --- text normalisation ---------------------------------------------------------------

# Zero-width characters and soft hyphens vanish; no-break spaces become plain spaces so that
# "§\u00a022" and "§ 22" are the same to the splitter and the search. (A chain of
# str.replace is ten times faster than str.translate on large law files.)
_INVISIBLE = [(c, "") for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff"] + [(c, " ") for c in "\u00a0\u202f\u2007"]


def normalize_text(text: str) -> str:
    for char, replacement in _INVISIBLE:
        if char in text:
            text = text.replace(char, replacement)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _decode(data: bytes) -> str:
    # Old office text files are often Windows-1252; better a readable import than a refusal.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --- Markdown and German law files -------------------------------------------------------

_REGISTRY_SUFFIX = re.compile(r"^(.+)-[A-Z]{2}NR[0-9A-Z]{5,}$")  # "-BJNR295500003", "-DDNR…"
_SGB_BOOK = re.compile(r"^SGB_(\d+)(?=_|$)")
_LAW_NAMES = {"Buergergeld-V": "Bürgergeld-V"}
_ROMAN = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def _roman(number: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        while number >= value:
            out, number = out + letters, number - value
    return out


def law_abbreviation(stem: str) -> str:
    """Readable law name from a gesetze-im-internet file name: "SGB_2-BJNR295500003" -> "SGB II"."""
    match = _REGISTRY_SUFFIX.match(stem)
    if not match:
        return stem
    prefix = match.group(1)
    if prefix in _LAW_NAMES:
        return _LAW_NAMES[prefix]
    prefix = _SGB_BOOK.sub(lambda m: "SGB_" + _roman(int(m.group(1))), prefix)
    return prefix.replace("_", " ")


def _read_markdown(path: Path, data: bytes, doc: Document) -> None:
    text = _decode(data)
    doc.text = text
    first = text.lstrip().split("\n", 1)[0]
    heading = re.search(r"^# +(.+)$", text, re.MULTILINE)
    if first.startswith("% "):
        doc.title = first[2:]
    elif heading:
        doc.title = heading.group(1)
    headings = text.count("\n# §") + text.count("\n# Art")  # str.count: fast on 200 MB corpora
    if headings >= 2 or (headings and first.startswith("% ")):
        doc.kind = "law"
        doc.law = law_abbreviation(path.stem)


def _read_text(path: Path, data: bytes, doc: Document) -> None:
    doc.text = _decode(data)
    first = next((line.strip() for line in doc.text.splitlines() if line.strip()), "")
    if len(first) <= 100:
        doc.title = first


# --- HTML --------------------------------------------------------------------------------

_HTML_DROP = "script, style, nav, aside, noscript, template, svg, iframe, form"
_HTML_BLOCKS = frozenset(
    "address article blockquote body caption dd details div dl dt fieldset figcaption figure "
    "h5 h6 hr main ol p section summary ul".split()
)


class _HtmlText:
    """Walks the DOM once and collects blocks: ("h"|"p"|"i", line); "i" (list items, table
    rows) are joined by single newlines, everything else by blank lines."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.buf: list[str] = []
        self.context: list[tuple[str, str]] = [("p", "")]

    def flush(self) -> None:
        text = " ".join("".join(self.buf).split())
        self.buf.clear()
        if text:
            kind, prefix = self.context[-1]
            self.blocks.append((kind, prefix + text))

    def block(self, node, kind: str = "p", prefix: str = "") -> None:
        self.flush()
        self.context.append((kind, prefix))
        self.walk(node)
        self.flush()
        self.context.pop()

    def walk(self, node) -> None:
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                self.buf.append(child.text_content or "")
            elif tag in ("h1", "h2", "h3", "h4"):
                self.block(child, "h", "#" * int(tag[1]) + " ")
            elif tag == "li":
                self.block(child, "i", "- ")
            elif tag == "table":
                self.flush()
                for row in child.css("tr"):
                    cells = (" ".join(c.text(separator=" ").split()) for c in row.css("th, td"))
                    line = " | ".join(c for c in cells if c)
                    if line:
                        self.blocks.append(("i", line))
            elif tag == "pre":
                self.flush()
                if child.text().strip():
                    self.blocks.append(("p", child.text().strip("\n")))
            elif tag == "br":
                self.flush()
            elif tag in _HTML_BLOCKS:
                self.block(child)
            elif not child.is_comment_node:
                self.walk(child)
            child = child.next

    def text(self) -> str:
        out: list[str] = []
        for i, (kind, line) in enumerate(self.blocks):
            if i:
                out.append("\n" if kind == "i" and self.blocks[i - 1][0] == "i" else "\n\n")
            out.append(line)
        return "".join(out)


def _read_html(path: Path, data: bytes, doc: Document) -> None:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(_decode(data))
    canonical = tree.css_first("link[rel~=canonical]")
    if canonical is not None and (canonical.attributes.get("href") or "").strip():
        doc.url = canonical.attributes["href"].strip()
    title = tree.css_first("title") or tree.css_first("h1")
    if title is not None and title.text(strip=True):
        doc.title = title.text(separator=" ")
    for node in tree.css(_HTML_DROP):
        node.decompose()
    for node in tree.css("header, footer"):
        # Page chrome goes; an article's own header (with its h1) stays.
        if not any(a.tag in ("main", "article") for a in _ancestors(node)):
            node.decompose()
    root = tree.css_first("main") or tree.body or tree.root
    walker = _HtmlText()
    if root is not None:
        walker.walk(root)
        walker.flush()
    doc.text = walker.text()


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


# --- PDF ---------------------------------------------------------------------------------


def _read_pdf(path: Path, data: bytes, doc: Document) -> None:
    from pypdf import PdfReader

    broken = "PDF ist beschädigt oder verschlüsselt"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError(path, broken)
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except LoaderError:
        raise
    except Exception:  # pypdf raises many kinds of errors on damaged files
        raise LoaderError(path, broken) from None
    doc.text = "\n\n".join(p for p in pages if p)
    if not normalize_text(doc.text).strip():
        raise LoaderError(path, "PDF enthält keinen Text (gescannt?)")
    first = doc.text.strip().split("\n", 1)[0].strip()
    doc.title = str(meta_title).strip() or (first if len(first) <= 100 else path.stem)


# --- DOCX --------------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"(?:heading|überschrift)\s*(\d)", re.IGNORECASE)


def _read_docx(path: Path, data: bytes, doc: Document) -> None:
    import docx
    from docx.table import Table

    try:
        word = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        first_heading = ""
        for item in word.iter_inner_content():
            if isinstance(item, Table):
                rows = []
                for row in item.rows:
                    cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells repeat
                    rows.append(" | ".join(c for c in cells if c))
                blocks.append("\n".join(r for r in rows if r))
                continue
            text = item.text.strip()
            style = (item.style.name if item.style is not None else "") or ""
            level = 1 if style.lower() == "title" else None
            if match := _DOCX_HEADING.match(style):
                level = min(int(match.group(1)), 6)
            if text and level:
                first_heading = first_heading or text
                text = "#" * level + " " + text
            blocks.append(text)
        title = (word.core_properties.title or "").strip()
    except Exception:  # zip, XML and python-docx errors alike
        raise LoaderError(path, "DOCX-Datei ist beschädigt oder kein Word-Dokument") from None
    doc.text = "\n\n".join(b for b in blocks if b)
    doc.title = title or first_heading or path.stem


# --- JSONL -------------------------------------------------------------------------------


def _read_jsonl(path: Path, data: bytes, doc: Document) -> None:
    doc.kind = "records"
    for number, line in enumerate(_decode(data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise LoaderError(path, f"Zeile {number}: kein gültiges JSON") from None
        if not isinstance(item, dict):
            raise LoaderError(path, f"Zeile {number}: kein JSON-Objekt")
        if "answer" in item:
            doc.records.append(_curated_record(path, number, item))
            continue
        text = item.get("text")
        if text is None:
            raise LoaderError(path, f"Zeile {number}: Feld 'text' fehlt")
        if not isinstance(text, str) or not text.strip():
            raise LoaderError(path, f"Zeile {number}: Feld 'text' ist leer oder kein Text")
        # "passage_id" is what the evaluation sets use.
        ident = item.get("id", item.get("passage_id"))
        title, url = item.get("title"), item.get("url")
        doc.records.append(
            Record(
                text=normalize_text(text).strip(),
                external_id=None if ident is None else str(ident),
                title=(" ".join(normalize_text(str(title)).split()) or None) if title else None,
                url=str(url) if url else None,
            )
        )
    if not doc.records:
        raise LoaderError(path, "Datei enthält keine Einträge")


def _curated_record(path: Path, number: int, item: dict) -> Record:
    """A staff-approved answer: {id, question, alternatives?, answer, answer_simple?, sources?,
    topic?, valid_from?, valid_to?, translations?, frequent?}; sources are [{citation, source?,
    section?, url?}]; answer_simple is the same answer in Einfache Sprache (shown on request);
    translations are {language: {question, answer}} (matched and shown in that language)."""
    question, answer = item.get("question"), item.get("answer")
    if not (isinstance(question, str) and question.strip() and isinstance(answer, str) and answer.strip()):
        raise LoaderError(path, f"Zeile {number}: kuratierte Antwort braucht 'question' und 'answer'")
    alternatives = item.get("alternatives") or []
    sources = item.get("sources") or []
    if not isinstance(alternatives, list) or not isinstance(sources, list):
        raise LoaderError(path, f"Zeile {number}: 'alternatives' und 'sources' müssen Listen sein")
    translations = item.get("translations") or {}
    if not isinstance(translations, dict) or not all(
        isinstance(t, dict) and isinstance(t.get("question"), str) and isinstance(t.get("answer"), str)
        for t in translations.values()
    ):
        raise LoaderError(path, f"Zeile {number}: 'translations' braucht je Sprache 'question' und 'answer'")
    try:
        valid = [date.fromisoformat(item[k]) if item.get(k) else None for k in ("valid_from", "valid_to")]
    except (TypeError, ValueError):
        raise LoaderError(path, f"Zeile {number}: 'valid_from'/'valid_to' ist kein Datum (JJJJ-MM-TT)") from None
    question = " ".join(normalize_text(question).split())
    return Record(
        text=normalize_text(answer).strip(),
        external_id=str(item["id"]) if item.get("id") is not None else None,
        title=question,
        heading=question,
        keywords="; ".join(" ".join(normalize_text(str(a)).split()) for a in alternatives),
        meta={"kind": "curated", "topic": item.get("topic"), "sources": sources}
        | ({"answer_simple": normalize_text(item["answer_simple"]).strip()} if item.get("answer_simple") else {})
        | ({"translations": translations} if translations else {})
        | ({"frequent": True} if item.get("frequent") else {}),
        valid_from=valid[0],
        valid_to=valid[1],
    )


_READERS = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".jsonl": _read_jsonl,
}
