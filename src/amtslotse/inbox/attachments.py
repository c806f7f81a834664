"""Attachments: text out of PDF, DOCX, plain text and images (OCR), and the document type.

Example::

    att = Attachment("scan.png", "image/png", png_bytes)
    analyze_isolated(att, limits)  # fills att.text, att.doc_type and, if unreadable, att.note
    att.doc_type, DOCUMENT_TYPES[att.doc_type]  # ("arbeitsunfaehigkeitsbescheinigung", "Arbeitsunfähigkeitsbescheinigung")

A citizen's file is untrusted input: a 97 KB DOCX can unpack to 20 MB of XML that keeps a
parser busy for many minutes and takes gigabytes. So the inbox reads each attachment with
`analyze_isolated`: `analyze` in a separate process (`python -m amtslotse.inbox.attachments`)
with a wall-clock limit (`Limits.timeout_seconds`, then its process group is killed) and,
set by the child itself with `resource.setrlimit`, a CPU-time and an address-space limit
(`cpu_seconds`, `memory_bytes`; tesseract, started by the child, inherits the latter). A DOCX
is refused before it is unpacked when its ZIP members declare more than `max_unpacked_bytes`
(Python's zipfile never returns more than a member declares). Whatever goes wrong, the
attachment gets a German note and no text; the message itself is processed as usual.

The type is recognised from the content (magic bytes), not the declared MIME type or the
file name: phones send "application/octet-stream", scanners name everything "scan0001".
OCR runs Debian's `tesseract` (with `tesseract-ocr-deu`) as a subprocess, one thread per
process (OMP_THREAD_LIMIT=1: tesseract's OpenMP threads gain little on one page and fight
each other when pages run in parallel; benchmarks/ocr.py measures it). Scanned PDF pages
(no text layer) are OCR'd from their embedded JPEG, JPEG 2000, CCITT fax or 8-bit raw
images; JBIG2 and other rare encodings are left out with a note.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import signal
import struct
import subprocess
import unicodedata
from concurrent.futures import ThreadPoolExecutor
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from amtslotse.inbox.mail import decode_text, html_to_text, megabytes
from amtslotse.inbox.message import Attachment, IncomingMessage
from amtslotse.knowledge.loaders import LoaderError, normalize_text, read_text_of

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
log = logging.getLogger(__name__)

_OCR_PAGES = [0]  # pages OCR'd by this process (`analyze` takes the difference: usage counting)
_OCR_LOCK = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """What one attachment may cost. Larger ones are skipped with a note, never a crash."""

    max_bytes: int = 20 * 1024 * 1024  # a common mail server limit; larger is not a letter
    max_pixels: int = 60_000_000  # 48-MP phone photos pass; decompression bombs do not
    max_pages: int = 30  # PDF pages read (and OCR'd) per attachment
    max_chars: int = 200_000  # text kept per attachment (about 60 pages)
    ocr_timeout_seconds: float = 120.0  # per image
    ocr_workers: int = 2  # pages OCR'd at the same time (one core each)
    ocr_languages: str = "deu"
    max_unpacked_bytes: int = 16 * 1024 * 1024  # a DOCX's ZIP members together, as declared
    timeout_seconds: float = 300.0  # wall clock for one attachment in its own process (OCR included)
    cpu_seconds: float = 60.0  # CPU time of that process (its OCR processes have their own limit)
    memory_bytes: int = 1024 * 1024 * 1024  # address space of that process and of each OCR process

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(
            max_bytes=max(settings.inbox_max_attachment_bytes, 1), ocr_timeout_seconds=settings.ocr_timeout_seconds,
            ocr_workers=settings.ocr_workers, ocr_languages=settings.ocr_languages,
            max_unpacked_bytes=settings.attachment_max_unpacked_bytes, timeout_seconds=settings.attachment_timeout_seconds,
            cpu_seconds=settings.attachment_cpu_seconds, memory_bytes=settings.attachment_memory_mb * 1024 * 1024,
        )


DEFAULT_LIMITS = Limits()


class AttachmentError(Exception):
    """The attachment's text cannot be read; the message is German, for staff."""


def analyze(attachment: Attachment, limits: Limits = DEFAULT_LIMITS) -> Attachment:
    """Fill `text`, `doc_type` and `note` (and correct a generic `content_type`)."""
    kind = sniff(attachment.data, attachment.filename, attachment.content_type)
    if kind in _CONTENT_TYPES and attachment.content_type != _CONTENT_TYPES[kind]:
        attachment.content_type = _CONTENT_TYPES[kind]
    before = _OCR_PAGES[0]
    try:
        attachment.text = extract_text(attachment, limits)
        attachment.note = ""
    except AttachmentError as exc:
        attachment.text, attachment.note = "", str(exc)
    attachment.ocr_pages = _OCR_PAGES[0] - before
    attachment.doc_type = detect_document_type(attachment.text, attachment.filename)
    return attachment


def analyze_message(message: IncomingMessage, limits: Limits = DEFAULT_LIMITS) -> IncomingMessage:
    for attachment in message.attachments:
        analyze_isolated(attachment, limits)
    return message


# --- reading in a separate process with a budget ---------------------------------------------

POLL_SECONDS = 0.5


class Interrupted(Exception):
    """`wait` asked to stop (server shutdown): the child was killed, nothing was decided."""


def analyze_isolated(
    attachment: Attachment, limits: Limits = DEFAULT_LIMITS, *, wait: Callable[[], bool] | None = None,
) -> Attachment:
    """`analyze` in a separate process within `limits` (time, CPU, memory; see the module
    docstring). `wait` is called about every POLL_SECONDS while the child works (the inbox
    worker flags newly arrived messages meanwhile); when it returns True the child is killed
    and `Interrupted` raised. Never raises for the attachment's sake."""
    kind = sniff(attachment.data, attachment.filename, attachment.content_type)
    if kind in _CONTENT_TYPES and attachment.content_type != _CONTENT_TYPES[kind]:
        attachment.content_type = _CONTENT_TYPES[kind]
    with tempfile.TemporaryDirectory(prefix="amtslotse-anhang-") as folder:
        work = Path(folder)
        (work / "data").write_bytes(attachment.data)
        (work / "job.json").write_text(json.dumps({
            "filename": attachment.filename, "content_type": attachment.content_type, "limits": asdict(limits),
        }), "utf-8")
        with open(work / "stderr", "wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "amtslotse.inbox.attachments", str(work)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
            )
            note = _await_child(child, limits, wait)
        result = work / "result.json"
        if note is None and child.returncode == 0 and result.is_file():
            data = json.loads(result.read_text("utf-8"))
            attachment.text, attachment.doc_type, attachment.note = data["text"], data["doc_type"], data["note"]
            attachment.ocr_pages = int(data.get("ocr_pages", 0))
            return attachment
        if note is None:
            note = _child_failure(child.returncode, limits)
            log.warning("Anhang nicht gelesen (Rückgabewert %s): %s", child.returncode,
                        (work / "stderr").read_text("utf-8", errors="replace")[-500:].strip())
    attachment.text, attachment.note = "", note
    attachment.doc_type = detect_document_type("", attachment.filename)
    return attachment


def _await_child(child: subprocess.Popen, limits: Limits, wait: Callable[[], bool] | None) -> str | None:
    """Wait for the child within the wall-clock limit; a German note if it had to be killed."""
    deadline = time.monotonic() + limits.timeout_seconds
    while True:
        try:
            child.wait(timeout=max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
            return None
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline:
            _kill(child)
            return f"Anhang konnte nicht in {limits.timeout_seconds:.0f} s gelesen werden: nicht gelesen"
        if wait is not None:
            try:
                stop = wait()
            except BaseException:
                _kill(child)
                raise
            if stop:
                _kill(child)
                raise Interrupted()


def _kill(child: subprocess.Popen) -> None:
    """The child and what it started (tesseract): its own process group."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
    child.wait()


def _child_failure(returncode: int | None, limits: Limits) -> str:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"Anhang zu aufwendig zu lesen (mehr als {limits.cpu_seconds:.0f} s Rechenzeit): nicht gelesen"
    if returncode == MEMORY_EXIT:
        return f"Anhang braucht zu viel Speicher (mehr als {megabytes(limits.memory_bytes)}): nicht gelesen"
    return "Anhang konnte nicht gelesen werden (Lesevorgang abgebrochen)"


MEMORY_EXIT = 3


def _peak_resident_bytes() -> int:
    """The child's own peak resident memory. Not getrusage's ru_maxrss: Linux carries that over
    exec from the parent (subprocess starts the child by vfork), so a large server or test
    process would make every failed attachment look like a memory failure."""
    try:
        for line in Path("/proc/self/status").read_text("ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child_main(folder: str) -> int:
    """The child's side: set its own limits, read the job, analyze, write the result."""
    import resource

    work = Path(folder)
    job = json.loads((work / "job.json").read_text("utf-8"))
    limits = Limits(**job["limits"])
    cpu = max(1, int(limits.cpu_seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))  # SIGXCPU at cpu, SIGKILL 2 s later
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    attachment = Attachment(job["filename"], job["content_type"], (work / "data").read_bytes())
    try:
        analyze(attachment, limits)
    except MemoryError:
        return MEMORY_EXIT
    # lxml reports a failed allocation as a syntax error ("beschädigt"): a failure near the
    # memory limit was the limit.
    if attachment.note and _peak_resident_bytes() > limits.memory_bytes // 2:
        return MEMORY_EXIT
    (work / "result.json").write_text(json.dumps({
        "text": attachment.text, "doc_type": attachment.doc_type, "note": attachment.note,
        "ocr_pages": attachment.ocr_pages,
    }, ensure_ascii=False), "utf-8")
    return 0


# --- content sniffing --------------------------------------------------------------------

_CONTENT_TYPES = {
    "pdf": "application/pdf", "docx": DOCX_TYPE, "png": "image/png", "jpeg": "image/jpeg",
    "tiff": "image/tiff", "gif": "image/gif", "bmp": "image/bmp", "webp": "image/webp",
}
_IMAGES = frozenset({"png", "jpeg", "tiff", "gif", "bmp", "webp"})  # what leptonica reads
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
    (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"BM", "bmp"), (b"\xd0\xcf\x11\xe0", "ole"),
]


def sniff(data: bytes, filename: str = "", content_type: str = "") -> str | None:
    """The format by content: "pdf", "docx", an image kind, "text", "html", or what we cannot read."""
    head = data[:1024]
    if b"%PDF-" in head:  # some generators put junk before the header; readers accept it
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in data[:200_000] else "zip"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "heic"
    suffix = Path(filename).suffix.lower()
    if content_type == "text/html" or suffix in (".html", ".htm"):
        return "html"
    if content_type.startswith("text/") or suffix in (".txt", ".csv", ".md"):
        return "text"
    return None


# --- text extraction ---------------------------------------------------------------------

_UNSUPPORTED = {
    "heic": "Bildformat HEIC (iPhone) wird nicht unterstützt: bitte als JPEG oder PDF senden",
    "ole": "altes Office-Format (.doc/.xls) wird nicht unterstützt: bitte als PDF oder DOCX senden",
    "zip": "ZIP-Archive werden nicht entpackt",
}


def extract_text(attachment: Attachment, limits: Limits = DEFAULT_LIMITS) -> str:
    """The attachment's text; raises `AttachmentError` (German) when it cannot be read."""
    data = attachment.data
    if len(data) > limits.max_bytes:
        raise AttachmentError(f"Anhang zu groß ({megabytes(len(data))}, höchstens {megabytes(limits.max_bytes)}): nicht gelesen")
    if not data.strip():
        raise AttachmentError("Anhang ist leer")
    kind = sniff(data, attachment.filename, attachment.content_type)
    if kind == "pdf":
        text = _pdf_text(data, limits)
    elif kind == "docx":
        text = _docx_text(data, limits)
    elif kind in _IMAGES:
        text = ocr_images([data], limits)[0]
    elif kind == "text":
        text = decode_text(data, None)
    elif kind == "html":
        text = html_to_text(decode_text(data, None))
    else:
        raise AttachmentError(_UNSUPPORTED.get(kind or "", "Dateiformat wird nicht unterstützt: Text nicht gelesen"))
    text = normalize_text(text).strip()
    if len(text) > limits.max_chars:
        text = text[: limits.max_chars]
    return text


def _docx_text(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    check_unpacked_size(data, limits.max_unpacked_bytes)
    try:
        return read_text_of("anhang.docx", data)  # the knowledge loader's reader: tables, headings
    except LoaderError as exc:
        if isinstance(exc.__context__, MemoryError):  # the loader reports every failure as "beschädigt"
            raise MemoryError from None
        raise AttachmentError(exc.message) from None


def check_unpacked_size(data: bytes, limit: int) -> None:
    """Refuse a ZIP (DOCX) whose members declare more than `limit` bytes together, before any
    member is unpacked. The declared sizes bind: zipfile stops at a member's declared size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise AttachmentError("DOCX-Datei ist beschädigt oder kein Word-Dokument") from None
    total = sum(m.file_size for m in members)
    if total > limit or len(members) > 5000:
        raise AttachmentError(
            f"Anhang entpackt zu groß ({megabytes(total)}, höchstens {megabytes(limit)}): nicht gelesen"
        )


def _pdf_text(data: bytes, limits: Limits) -> str:
    # Not the knowledge loader's PDF reader: that one refuses PDFs without a text layer,
    # while a citizen's PDF often mixes typed pages with scanned ones, OCR'd page by page here.
    from pypdf import PdfReader

    broken = "PDF ist beschädigt oder verschlüsselt: Text nicht gelesen"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise AttachmentError(broken)
        pages: list[str | None] = []  # None: a scanned page, to be OCR'd
        scans: list[bytes] = []
        for number, page in enumerate(reader.pages[: limits.max_pages], start=1):
            text = (page.extract_text() or "").strip()
            # Scanner apps stamp a line of real text ("Scanned with …") on image pages.
            if len(re.sub(r"\s", "", text)) >= 40:
                pages.append(text)
                continue
            images = _page_images(page, limits)
            if images and images[0] is None:
                pages.append(f"[Seite {number}: Bild zu groß, Text nicht erkannt]")
            elif images:
                pages.append(None)
                scans.append(images[0])  # the page's largest image is the scan
            else:
                pages.append(text)
        count = len(reader.pages)
    except (AttachmentError, MemoryError):
        raise
    except Exception:  # pypdf raises many kinds of errors on damaged files
        raise AttachmentError(broken) from None
    ocr = iter(ocr_images(scans, limits, keep_going=True))
    out = [page if page is not None else next(ocr) for page in pages]
    if count > limits.max_pages:
        out.append(f"[… nur die ersten {limits.max_pages} von {count} Seiten gelesen]")
    return "\n\n".join(p for p in out if p)


def _page_images(page, limits: Limits) -> list[bytes | None]:
    """Embedded images of a page as files tesseract reads, largest first; tiny ones (logos)
    skipped, too large ones None (checked before decoding: a small stream can inflate to GBs)."""
    found: list[tuple[int, bytes | None]] = []
    resources = page["/Resources"].get_object() if "/Resources" in page else {}
    xobjects = resources["/XObject"].get_object() if "/XObject" in resources else {}
    for ref in xobjects.values():
        obj = ref.get_object()
        if obj.get("/Subtype") != "/Image":
            continue
        width, height = int(obj.get("/Width", 0)), int(obj.get("/Height", 0))
        if width * height < 200 * 200:
            continue
        if width * height > limits.max_pixels:
            found.append((width * height, None))
            continue
        filters = obj.get("/Filter", [])
        last = filters[-1] if isinstance(filters, list) and filters else filters
        if last in ("/DCTDecode", "/JPXDecode", "/CCITTFaxDecode"):
            image = obj.get_data()  # pypdf yields a JPEG, a JPEG 2000 file, or a TIFF for fax data
        elif last in ("/FlateDecode", "/LZWDecode", []) and int(obj.get("/BitsPerComponent", 0)) == 8:
            channels = _channels(obj.get("/ColorSpace"))
            if channels is None:
                continue
            # Raw pixels: a PNM header makes them an image file (P5 grey, P6 RGB).
            image = b"P%d\n%d %d\n255\n" % (5 if channels == 1 else 6, width, height) + obj.get_data()
        else:
            continue  # JBIG2, 1-bit raw, indexed colours: rare in scans, left out
        found.append((width * height, image))
    return [image for _, image in sorted(found, key=lambda f: -f[0])]


def _channels(space) -> int | None:
    space = space.get_object() if hasattr(space, "get_object") else space
    if space == "/DeviceGray":
        return 1
    if space == "/DeviceRGB":
        return 3
    if isinstance(space, list) and space and space[0] == "/ICCBased":
        n = int(space[1].get_object().get("/N", 0))
        return n if n in (1, 3) else None
    return None


# --- OCR ---------------------------------------------------------------------------------


def ocr_images(images: list[bytes], limits: Limits = DEFAULT_LIMITS, *, keep_going: bool = False) -> list[str]:
    """OCR several images (pages) with up to `limits.ocr_workers` tesseract processes.
    `keep_going`: a page that fails becomes a "[…]" note instead of failing the whole document."""

    def one(image: bytes) -> str:
        try:
            return _ocr(image, limits)
        except AttachmentError as exc:
            if not keep_going:
                raise
            return f"[{exc}]"

    if len(images) <= 1 or limits.ocr_workers <= 1:
        return [one(image) for image in images]
    with ThreadPoolExecutor(max_workers=limits.ocr_workers) as pool:  # threads wait on processes
        return list(pool.map(one, images))


def _ocr(image: bytes, limits: Limits) -> str:
    exe = shutil.which("tesseract")
    if exe is None:
        raise AttachmentError("Texterkennung (OCR) nicht verfügbar: tesseract ist nicht installiert")
    size = image_size(image)
    if size and size[0] * size[1] > limits.max_pixels:
        raise AttachmentError(f"Bild zu groß ({size[0]} × {size[1]} Pixel): Text nicht erkannt")
    try:
        done = subprocess.run(  # in the inbox: inside analyze_isolated's child, under its memory limit
            [exe, "stdin", "stdout", "-l", limits.ocr_languages],
            input=image, capture_output=True, timeout=limits.ocr_timeout_seconds, check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired:
        raise AttachmentError(
            f"Texterkennung nach {limits.ocr_timeout_seconds:.0f} s abgebrochen: Text nicht erkannt"
        ) from None
    if done.returncode != 0:
        if b"Failed loading language" in done.stderr:
            raise AttachmentError(
                f"Texterkennung nicht verfügbar: Sprachdaten '{limits.ocr_languages}' fehlen (tesseract-ocr-deu)"
            )
        raise AttachmentError("Bild ist beschädigt oder in einem unbekannten Format: Text nicht erkannt")
    with _OCR_LOCK:
        _OCR_PAGES[0] += 1
    return done.stdout.decode("utf-8", errors="replace").replace("\f", "\n").strip()


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG or TIFF header without decoding, else None."""
    try:
        if data.startswith(b"\x89PNG") and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data.startswith(b"\xff\xd8"):
            pos = 2
            while pos + 9 < len(data):
                if data[pos] != 0xFF:
                    return None
                marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2 : pos + 4])[0]
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
                    height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
                    return width, height
                pos += 2 + length
            return None
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            order = "<" if data[:2] == b"II" else ">"
            ifd = struct.unpack(order + "I", data[4:8])[0]
            values = {}
            for i in range(struct.unpack(order + "H", data[ifd : ifd + 2])[0]):
                tag, kind, _, value = struct.unpack(order + "HHI4s", data[ifd + 2 + 12 * i : ifd + 14 + 12 * i])
                if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
                    values[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), value[: 2 if kind == 3 else 4])[0]
            return (values[256], values[257]) if len(values) == 2 else None
    except (struct.error, IndexError):
        return None
    return None


# --- document type -----------------------------------------------------------------------

DOCUMENT_TYPES = {
    "arbeitsunfaehigkeitsbescheinigung": "Arbeitsunfähigkeitsbescheinigung",
    "lohnabrechnung": "Lohn- oder Gehaltsabrechnung",
    "mietvertrag": "Mietvertrag",
    "nebenkostenabrechnung": "Neben- oder Heizkostenabrechnung",
    "kontoauszug": "Kontoauszug",
    "bescheid": "Bescheid",
    "weiterbewilligungsantrag": "Weiterbewilligungsantrag",
    "sonstiges": "Sonstiges Dokument",
}

# Cue -> weight. A document's own title is a strong cue (6-7); words that also occur in other
# documents are weak (1-2). Strong cues (3 and up) in the first lines, where titles stand,
# count double: a Bescheid that mentions "Mietvertrag" or "Kontoauszüge" stays a Bescheid,
# and weak words alone ("Vermieter", "Mieter" in a Kündigung) do not reach the threshold.
_CUES: dict[str, dict[str, int]] = {
    "arbeitsunfaehigkeitsbescheinigung": {
        "Arbeitsunfähigkeitsbescheinigung": 6, "AU-Bescheinigung": 5, "Krankschreibung": 4,
        "arbeitsunfähig seit": 4, "voraussichtlich arbeitsunfähig bis": 4, "Arbeitsunfähigkeit": 3,
        "Erstbescheinigung": 3, "Folgebescheinigung": 3, "festgestellt am": 2, "Vertragsarzt": 2,
        "Versicherten": 1, "Krankenkasse": 1, "Diagnose": 1,
    },
    "lohnabrechnung": {
        "Lohnabrechnung": 6, "Gehaltsabrechnung": 6, "Verdienstabrechnung": 6, "Entgeltabrechnung": 6,
        "Abrechnung der Brutto": 5, "Auszahlungsbetrag": 3, "Gesamtbrutto": 3, "SV-Brutto": 3,
        "Nettoverdienst": 3, "Steuerklasse": 2, "Lohnsteuer": 2, "Personalnummer": 2, "Bruttolohn": 2,
        "Rentenversicherung": 1, "Arbeitslosenversicherung": 1, "Solidaritätszuschlag": 1, "Netto": 1,
    },
    "mietvertrag": {
        "Mietvertrag": 6, "Wohnraummietvertrag": 6, "Mietsache": 3, "Mietverhältnis beginnt": 3,
        "Vermieter": 2, "Mieter": 1, "Mietsicherheit": 2, "Kaution": 2, "Nettokaltmiete": 2, "Kaltmiete": 1,
        "Grundmiete": 1, "Schönheitsreparaturen": 2, "Hausordnung": 1, "Wohnfläche": 1, "Mietzeit": 2,
    },
    "nebenkostenabrechnung": {
        "Nebenkostenabrechnung": 6, "Betriebskostenabrechnung": 6, "Heizkostenabrechnung": 6,
        "Abrechnungszeitraum": 2, "Umlageschlüssel": 3, "Verteilerschlüssel": 3, "Ihr Anteil": 2,
        "Nachzahlung": 2, "Guthaben": 1, "Vorauszahlungen": 2, "Grundsteuer": 1, "Müllabfuhr": 1,
        "Hauswart": 1, "Betriebskosten": 1, "Heizkosten": 1,
    },
    "kontoauszug": {
        "Kontoauszug": 6, "Alter Kontostand": 4, "Neuer Kontostand": 4, "Buchungstag": 3,
        "Wertstellung": 3, "Kontostand": 2, "Saldo": 2, "Umsätze": 2, "Valuta": 2, "Gutschrift": 1,
        "Lastschrift": 1, "Dauerauftrag": 1, "IBAN": 1,
    },
    "bescheid": {
        "Bewilligungsbescheid": 6, "Änderungsbescheid": 6, "Aufhebungsbescheid": 6, "Erstattungsbescheid": 6,
        "Ablehnungsbescheid": 6, "Widerspruchsbescheid": 6, "Rechtsbehelfsbelehrung": 4,
        "gegen diesen Bescheid": 4, "Bescheid": 3, "Bewilligungszeitraum": 2,
        "Leistungen zur Sicherung des Lebensunterhalts": 2, "Widerspruch": 1, "Jobcenter": 1,
        "Regelbedarf": 1, "Bedarfsgemeinschaft": 1,
    },
    "weiterbewilligungsantrag": {
        "Weiterbewilligungsantrag": 7, "Antrag auf Weiterbewilligung": 7, "Weiterbewilligung": 4,
        "Haben sich Änderungen ergeben": 3, "Änderungen in den Verhältnissen": 3, "bitte ankreuzen": 2,
        "Unterschrift": 1, "Antragsteller": 2, "Anlage EK": 2, "Anlage KdU": 2,
    },
}
_FILENAME_TOKENS = {"au": "arbeitsunfaehigkeitsbescheinigung", "wba": "weiterbewilligungsantrag", "nka": "nebenkostenabrechnung"}
_THRESHOLD = 4
_HEAD_CHARS = 400


def _skeleton(text: str) -> str:
    """Letters only, folded so that OCR slips and spelling variants meet: "Arbeits-\\nunfähig-
    keit", "Arbeitsunfaehigkeit" and OCR's "Arbeitsunfahigkelt" all become "arbeltsunfahlgkelt"."""
    text = text.lower().replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z01|!]", "", text)
    text = text.replace("ae", "a").replace("oe", "o").replace("ue", "u").replace("rn", "m")
    return text.translate(str.maketrans("01|!i", "ollll"))


_SKELETON_CUES = {kind: [(_skeleton(c), w) for c, w in cues.items()] for kind, cues in _CUES.items()}


def detect_document_type(text: str, filename: str = "") -> str:
    """A key of DOCUMENT_TYPES by weighted cue words in the text and the file name."""
    body, head = _skeleton(text[:30_000]), _skeleton(text[:_HEAD_CHARS])
    name = _skeleton(Path(filename).stem)
    tokens = set(re.split(r"[^a-z]+", Path(filename).stem.lower()))
    best, best_score = "sonstiges", 0
    for kind, cues in _SKELETON_CUES.items():
        score = sum(w * (2 if w >= 3 and cue in head else 1) for cue, w in cues if cue in body)
        score += sum(w for cue, w in cues if w >= 3 and cue in name)
        score += 4 * any(_FILENAME_TOKENS.get(t) == kind for t in tokens)
        if score > best_score:
            best, best_score = kind, score
    return best if best_score >= _THRESHOLD else "sonstiges"


# --- serving an attachment to staff ------------------------------------------------------

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
DOWNLOAD_TYPES = frozenset(_CONTENT_TYPES.values()) | {"text/plain"}
"""Content types an attachment is served with; anything else goes out as application/octet-stream."""


def safe_content_type(declared: str, data: bytes | None = None, filename: str = "") -> str:
    """The content type to show and serve: the sniffed one if the bytes are known, else the
    declared one if it is a plain known type; never text/html, never header tricks."""
    if data is not None:
        kind = sniff(data, filename, "")
        if kind in _CONTENT_TYPES:
            return _CONTENT_TYPES[kind]
        if kind == "text" or (kind is None and declared.strip().lower().startswith("text/plain")):
            return "text/plain"
        return "application/octet-stream"
    value = declared.split(";", 1)[0].strip().lower()
    return value if _TOKEN.match(value) and value in DOWNLOAD_TYPES else "application/octet-stream"


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1]))
