"""Structure-aware splitter: `Document` -> list of `Passage`s (ingest flow, second step).

Laws are cut by § (or Art, Anlage) and, when a § is long, by Absatz; pages by heading,
then by paragraph; JSONL records stay one passage each unless very long. Every passage
carries a readable citation ("§ 22 Abs. 1-3 SGB II", "Öffnungszeiten – Jobcenter
Musterkreis") so that an answer can always name its source.

Example:
    passages = split_document(doc, law_split_chars=2500, page_split_chars=1500)
    passages[0].citation  # "§ 1 SGB II"
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from amtslotse.models import Document, Passage, Record

TINY_SECTION_CHARS = 200
"""Page sections shorter than this are merged with the next one under the same parent."""


class _Part(NamedTuple):
    text: str
    citation: str
    heading: str | None = None
    section: str | None = None
    external_id: str | None = None
    title: str | None = None
    url: str | None = None
    record: Record | None = None  # keywords, meta and validity of a record


def split_document(doc: Document, *, law_split_chars: int, page_split_chars: int) -> list[Passage]:
    if doc.kind == "records":
        parts = _record_parts(doc, page_split_chars)
    elif doc.kind == "law":
        parts = _law_parts(doc, law_split_chars)
    else:
        parts = _page_parts(doc, page_split_chars)
    return [
        Passage(
            text=part.text,
            title=part.title or doc.title,
            source=doc.source,
            citation=part.citation,
            heading=part.heading,
            section=part.section,
            external_id=part.external_id,
            url=part.url or doc.url,
            position=position,
            tenant=doc.tenant,
            language=doc.language,
            keywords=part.record.keywords if part.record else "",
            meta=dict(part.record.meta) if part.record else {},
            valid_from=part.record.valid_from if part.record and part.record.valid_from else doc.valid_from,
            valid_to=part.record.valid_to if part.record and part.record.valid_to else doc.valid_to,
        )
        for position, part in enumerate(parts)
    ]


# --- size limits: paragraphs, then lines, then sentences, then words ----------------------

# A sentence ends after a lower-case letter or closing bracket/quote and a full stop, and the
# next one starts upper-case. Requiring the letter keeps "25. Lebensjahr" and "1. Januar"
# in one piece; "Abs. 2" and "Nr. 3" never split because a digit follows.
_SENTENCE_END = re.compile(r"(?<=[a-zäöüß)\]\"“»][.!?])\s+(?=[A-ZÄÖÜ„\"(])")
_LEVELS = (
    (re.compile(r"\n[ \t]*\n"), "\n\n"),
    (re.compile(r"\n"), "\n"),
    (_SENTENCE_END, " "),
    (re.compile(r"\s+"), " "),
)


def chunk_text(text: str, limit: int, _level: int = 0) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters at the coarsest boundary that
    works, packing neighbouring small units back together."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    if _level == len(_LEVELS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pattern, separator = _LEVELS[_level]
    pieces = [piece for unit in pattern.split(text) for piece in chunk_text(unit, limit, _level + 1)]
    return [separator.join(pieces[a:b]) for a, b in _pack([len(p) for p in pieces], limit, len(separator))]


def _pack(lengths: list[int], limit: int, separator: int) -> list[tuple[int, int]]:
    """Greedy groups [a, b) of consecutive items whose joined length stays within `limit`
    (an item longer than the limit forms a group of its own)."""
    groups, start, size = [], 0, -separator
    for i, length in enumerate(lengths):
        if i > start and size + separator + length > limit:
            groups.append((start, i))
            start, size = i, -separator
        size += separator + length
    if lengths:
        groups.append((start, len(lengths)))
    return groups


def _numbered(parts: list[_Part]) -> list[_Part]:
    if len(parts) < 2:
        return parts
    return [p._replace(citation=f"{p.citation} (Teil {i})") for i, p in enumerate(parts, start=1)]


# --- markup clean-up (raw HTML tables in law files, Markdown escapes, padding) ------------

# Raw HTML in law files: one pass over the tags with a lookup. "\x01" marks a line break that
# becomes a space inside a table cell and a newline elsewhere.
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_HTML_TAG_TEXT = {"/td": " | ", "/th": " | ", "/tr": "\n", "/caption": "\n", "/dt": " "} | dict.fromkeys(
    ("br", "/p", "/div", "/li", "/dd", "/dl", "/ul", "/ol"), "\x01"
)
_HYPHEN_BREAK = re.compile(r"-\s*\x01\s*(?=[a-zäöüß])")  # "Regel-<br/>bedarfsstufe"
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
# Markdown table rules ("|:---|---|") and empty rows ("|   |   |"). The patterns start with a
# literal "\n" (no MULTILINE) and the clean-up uses str.replace where it can: on the 219 MB
# federal law corpus this is several times faster than the obvious regexes.
_MD_TABLE_RULE = re.compile(r"\n[ \t]*(?:\|[-:| \t]*|[-: \t]*---[-: \t]*)(?=\n)")
_SPACES = re.compile(r"  +")
_BLANK_LINES = re.compile(r"\n\n\n+")


def strip_tags(text: str) -> str:
    """`text` without HTML tags (a citizen's pasted or hostile markup is no part of the question).

    >>> strip_tags('<img src=x onerror="alert(1)"> Wann ist die Sprechstunde?')
    ' Wann ist die Sprechstunde?'
    """
    return _HTML_TAG.sub(" ", text) if "<" in text else text


def _tags_to_text(markup: str) -> str:
    return _HTML_TAG.sub(lambda m: _HTML_TAG_TEXT.get((m.group(1) + m.group(2)).lower(), ""), markup)


def _html_to_text(text: str) -> str:
    """Tables become "cell | cell" rows between blank lines, other tags vanish."""
    out, pos = [], 0
    while (start := text.find("<table", pos)) >= 0:
        end = text.find("</table>", start)
        end = len(text) if end < 0 else end + len("</table>")
        out.append(_tags_to_text(text[pos:start]).replace("\x01", "\n"))
        table = _tags_to_text(text[start:end].replace("\n", " "))
        if "\x01" in table:
            table = _HYPHEN_BREAK.sub("", table).replace("\x01", " ")
        rows = (" ".join(row.split()).rstrip("| ") for row in table.split("\n"))
        out.append("\n\n" + "\n".join(r for r in rows if r.strip("| ")) + "\n\n")
        pos = end
    out.append(_tags_to_text(text[pos:]).replace("\x01", "\n"))
    return "".join(out)


def clean_markup(text: str) -> str:
    """Plain text from law/page markup: raw HTML tables become "cell | cell" rows, other tags
    vanish, Markdown escapes and table rules go, runs of blanks collapse."""
    if "<" in text:
        text = _html_to_text(text)
    if "&" in text:
        text = html.unescape(text)
    if "\\" in text:
        text = _MD_ESCAPE.sub(r"\1", text)
    if "|" in text or "---" in text:
        text = _MD_TABLE_RULE.sub("", "\n" + text)
    if "\t" in text:
        text = text.replace("\t", " ")
    if "  " in text:
        text = _SPACES.sub(" ", text)
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


# --- laws --------------------------------------------------------------------------------

# Line-start patterns begin with a literal "\n" instead of using MULTILINE: much faster.
_LAW_BLOCK = re.compile(r"\n# +([^\n]*)")
_SKIP_BLOCKS = frozenset(
    # tables of contents, enactment and signature formulas: no content of their own
    {"inhaltsübersicht", "inhaltsverzeichnis", "inhalt", "gliederung"}
    | {"eingangsformel", "schlussformel", "schlußformel"}
)
_EMPTY_BODIES = frozenset({"", "(weggefallen)", "-", "----"})
_SECTION = re.compile(r"^(§§?|Art(?:ikel|\.)?)\s*(.*)$")
_LETTER_SUFFIX = re.compile(r"(\d)\s*([A-Za-z]{1,2})$")
_ABSATZ = re.compile(r"\n\((\d{1,3}[a-z]?)\)(?=\s)")


def law_section(label: str) -> str | None:
    """Normalise the label of a law heading: "§  7 B" -> "§ 7b", "Artikel 3" -> "Art 3"."""
    label = " ".join(label.split())
    match = _SECTION.match(label)
    if not match:
        return label if label.strip("-") else None
    kind = "Art" if match.group(1).startswith("Art") else match.group(1)
    number = _LETTER_SUFFIX.sub(lambda m: m.group(1) + m.group(2).lower(), match.group(2))
    return f"{kind} {number}".strip()


def _law_parts(doc: Document, limit: int) -> list[_Part]:
    law = doc.law or doc.title
    text = "\n" + doc.text
    blocks = list(_LAW_BLOCK.finditer(text))  # text before the first heading: title lines
    parts: list[_Part] = []
    for i, match in enumerate(blocks):
        heading = re.sub(r"\)(?=[A-ZÄÖÜ])", ") ", " ".join(clean_markup(match.group(1)).split()))
        label, _, name = heading.partition(" – ")
        if label.lower() in _SKIP_BLOCKS or name.startswith("(weggefallen)"):
            continue
        end = blocks[i + 1].start() if i + 1 < len(blocks) else len(text)
        body = clean_markup(text[match.end() : end])
        if body in _EMPTY_BODIES:
            continue
        section = law_section(label)
        if section == "Anlage" and name.startswith("(zu"):
            section += " " + name[: name.find(")") + 1]  # "Anlage (zu § 28)"
        base = f"{section} {law}" if section else law
        head = heading if section else None
        if len(body) <= limit:
            parts.append(_Part(body, base, head, section))
            continue
        pieces = _absatz_groups(body, limit)
        if pieces is None:
            parts.extend(_numbered([_Part(c, base, head, section) for c in chunk_text(body, limit)]))
        else:
            for piece, absatz in pieces:
                citation = f"{section} Abs. {absatz} {law}" if section else base
                parts.append(_Part(piece, citation, head, section))
    return parts


def _absatz_groups(body: str, limit: int) -> list[tuple[str, str]] | None:
    """Consecutive Absätze "(1)", "(2)" ... grouped within `limit`, with their range "1-3".
    An Absatz is cut (at sentences) only when it alone is over twice the limit."""
    body = "\n" + body
    starts = list(_ABSATZ.finditer(body))
    if len(starts) < 2:
        return None
    units: list[tuple[str, str]] = []
    for i, match in enumerate(starts):
        begin = 0 if i == 0 else match.start()  # text before "(1)" stays with it
        end = starts[i + 1].start() if i + 1 < len(starts) else len(body)
        absatz = body[begin:end].strip()
        pieces = chunk_text(absatz, limit) if len(absatz) > 2 * limit else [absatz]
        units.extend((match.group(1), piece) for piece in pieces)
    groups = []
    for a, b in _pack([len(t) for _, t in units], limit, 2):
        first, last = units[a][0], units[b - 1][0]
        groups.append(("\n\n".join(t for _, t in units[a:b]), first if first == last else f"{first}-{last}"))
    return groups


# --- pages (Markdown, HTML, DOCX, text, PDF) -------------------------------------------------

_PAGE_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_TITLE_LINES = re.compile(r"\A(?:%[^\n]*\n)+")


def _page_sections(doc: Document) -> list[tuple[tuple[str, ...], str]]:
    """(heading path, body) per heading, code fences respected, document title left out."""
    sections: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[int, str]] = []
    path: tuple[str, ...] = ()
    lines: list[str] = []
    fenced = False

    def close() -> None:
        body = clean_markup("\n".join(lines))
        if body:
            sections.append((path, body))
        lines.clear()

    for line in _TITLE_LINES.sub("", doc.text).split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _PAGE_HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        close()
        level, title = len(match.group(1)), " ".join(clean_markup(match.group(2)).split())
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title.strip("-–*_ ") and title))  # "# ----" is a rule, not a name
        path = tuple(t for _, t in stack if t)
        if path and path[0] == doc.title:
            path = path[1:]
    close()
    return sections


def _page_parts(doc: Document, limit: int) -> list[_Part]:
    groups: list[list[tuple[tuple[str, ...], str]]] = []
    size = 0
    for path, body in _page_sections(doc):
        last = groups[-1][-1][0] if groups else None
        # merge into a sibling, or an introduction into its first sub-section
        if last is not None and size < TINY_SECTION_CHARS and path[:-1] in (last[:-1], last):
            groups[-1].append((path, body))
            size += len(body)
        else:
            groups.append([(path, body)])
            size = len(body)
    parts = []
    for group in groups:
        heading = _group_heading([path for path, _ in group])
        text = "\n\n".join([group[0][1]] + [f"{p[-1]}\n{b}" if p else b for p, b in group[1:]])
        citation = f"{heading} – {doc.title}" if heading else doc.title
        parts.extend(_Part(chunk, citation, heading) for chunk in chunk_text(text, limit))
    return parts


def _group_heading(paths: list[tuple[str, ...]]) -> str | None:
    """"Top > Sub" for one section; merged siblings read "Top > A / B"."""
    common = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(common), len(path)) and common[n] == path[n]:
            n += 1
        common = common[:n]
    names = list(dict.fromkeys(p[len(common)] for p in paths if len(p) > len(common)))
    if len(paths[0]) > len(common):  # siblings, not an introduction followed by its sub-sections
        common = common + (" / ".join(names),)
    return " > ".join(common) or None


# --- records (JSONL) -----------------------------------------------------------------------


def _record_parts(doc: Document, page_limit: int) -> list[_Part]:
    parts: list[_Part] = []
    for record in doc.records:
        citation = record.title or record.external_id or doc.title
        # Only really long records (court decisions) are cut; the rest stay as given.
        chunks = chunk_text(record.text, page_limit) if len(record.text) > 3 * page_limit else [record.text]
        parts.extend(
            _numbered(
                [
                    _Part(c, citation, record.heading, None, record.external_id, record.title, record.url, record)
                    for c in chunks
                ]
            )
        )
    return parts
