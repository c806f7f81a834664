"""Readable for a stressed citizen: plain sentences, no law fragments, nothing that refers back
to text the reader cannot see. The Ask flow shows an extract only when it passes; the answer
grader (evaluation/answers.py) measures the same.

    >>> readable("Die Kosten für Unterkunft und Heizung werden in Höhe der tatsächlichen Aufwendungen anerkannt, soweit diese angemessen sind.")
    True
    >>> readable("§ 35a Absatz 2 Satz 2 bleibt unberührt.")
    False
    >>> readable("Diesen Zeitraum nennt man Karenzzeit.")
    False
    >>> readable("Ohne diese schriftliche Zusicherung werden höhere Kosten nicht übernommen.")
    False
"""

from __future__ import annotations

import re

MAX_SENTENCES = 5
MAX_WORDS_PER_SENTENCE = 30

_MARKER = re.compile(r"\s*\[\d+(?:,\s*\d+)*\]")
_FRAGMENT = re.compile(
    r"…|\.\.\.|\b(abs\.|absatz|absätze|nr\.|nummer) \d+[a-z]?( (satz|nr\.|nummer|buchstabe) \d+)?( (bis|und|oder) \d+)?"
    r"|\bsatz \d+\b|\bbleib(t|en) unberührt|\bnach maßgabe|\bentsprechend anzuwenden|\bgilt entsprechend|\bgelten entsprechend"
    r"|\bim sinne de[rs]\b|\b(des|der|dem) (ersten|zweiten|dritten|vierten|fünften|sechsten|siebten|achten|neunten|zehnten|elften|zwölften) (buch|buches|kapitels|abschnitts)"
    r"|\bvorstehende[nr]?\b|\bnachstehende[nr]?\b|\bdie nummern\b|^\(?\d+[a-z]?\)"
)
_DEMONSTRATIVE = r"(dies|diese|dieser|dieses|diesen|diesem|solche|solcher|solches|solchen|solchem)"
_DANGLING = re.compile(
    rf"^({_DEMONSTRATIVE}|das gilt|hierfür|dafür|dabei|hierbei|insoweit|ferner|außerdem|im übrigen|satz|absatz"
    r"|deshalb|daher|darum|dazu|davon|danach|darüber hinaus|auch hier|auch dann"
    rf"|(ohne|mit|für|nach|bei|von|vor|zu|aus|über|unter|in|auf|wegen|trotz|während|neben|außer|durch|gegen|um|ab|seit|bis) {_DEMONSTRATIVE})\b"
)
"""An opening that refers back to text the reader cannot see: "Diesen Zeitraum ...", "Ohne diese
Zusicherung ...", "Deshalb ...". Checked at the start of every paragraph (an extract's paragraph is
one source's sentences)."""


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9§„(])", text) if s.strip()]


def readable(text: str) -> bool:
    body = _MARKER.sub("", text).strip()
    if not body:
        return False
    folded = body.casefold()
    found = sentences(body)
    dangling = any(_DANGLING.match(p.strip()) for p in folded.split("\n\n"))
    if _FRAGMENT.search(folded) or dangling or len(found) > MAX_SENTENCES:
        return False
    return all(len(s.split()) <= MAX_WORDS_PER_SENTENCE for s in found)
