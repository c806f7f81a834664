"""E-mail intake: raw RFC 5322 bytes -> `IncomingMessage`, and reading mail files from disk.

Used by `amtslotse inbox import PATH` (.eml files, folders, Maildir) and by the IMAP poller,
which both hand the raw bytes to `parse_email`. Parsing never fails on odd but readable mail:
citizens write from phones, old webmailers and scanners that get charsets and headers wrong,
and a message must not be lost because its sender's software was sloppy.

Example:
    for source, raw in iter_mail_files(Path("export/")):
        if isinstance(raw, MailError):
            print(raw.message)  # German, e.g. "… Datei ist leer"; carry on with the next one
            continue
        message = parse_email(raw)
        message.subject, message.text, [a.filename for a in message.attachments]

Decisions: the plain-text part is preferred over HTML (it is what the sender typed; HTML
alternatives add signatures and tracking); HTML-only mail goes through the knowledge loader's
HTML-to-text walker. Without a Message-ID the dedup key is a hash of the raw bytes with line
endings normalised, so a file import and an IMAP fetch of the same message agree.
"""

from __future__ import annotations

import codecs
import hashlib
import mailbox
import mimetypes
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

from amtslotse.errors import UserError
from amtslotse.inbox.message import Attachment, IncomingMessage
from amtslotse.knowledge.loaders import normalize_text, read_text_of

MAX_MAIL_BYTES = 50 * 1024 * 1024  # larger files are refused by iter_mail_files (typical server limits: 20-50 MB)


class MailError(UserError):
    """A mail (file) that cannot be read; `message` is German and meant for the person importing."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source
        self.message = str(self)


# --- parsing -----------------------------------------------------------------------------


def parse_email(raw: bytes, *, channel: str = "email") -> IncomingMessage:
    """Parse one raw message (bytes as stored in a .eml file or fetched by IMAP)."""
    if not raw.strip():
        raise MailError("", "Die E-Mail ist leer.")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        if not msg.keys():
            raise MailError("", "Keine E-Mail: keine Kopfzeilen (From, Subject, Date …) gefunden.")
        texts: list[str] = []
        attachments: list[Attachment] = []
        _collect(msg, texts, attachments)
    except RecursionError:  # the stdlib parser recurses once per nesting level
        raise MailError("", "E-Mail ist zu tief verschachtelt (Tausende Teile ineinander): nicht lesbar.") from None
    return IncomingMessage(
        channel=channel,
        external_id=_message_id(msg) or raw_hash(raw),
        received_at=_received_at(msg),
        sender=_header(msg, "from"),
        subject=_header(msg, "subject"),
        text="\n\n".join(t for t in texts if t).strip(),
        attachments=attachments,
    )


_MAX_DEPTH = 20  # nesting of parts and forwarded mails; deeper is an attack, not a letter


def _collect(msg: EmailMessage, texts: list[str], attachments: list[Attachment], depth: int = 0) -> None:
    """The body text and the attachments of `msg`; a forwarded mail (message/rfc822) adds
    its own body and attachments in turn."""
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        texts.append(_part_text(body))
    for part, parent, alternative in _leaves(msg, None, False, depth):
        if part is body:
            continue
        filename = _filename(part)
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part.is_multipart() and depth < _MAX_DEPTH:
            inner = part.get_payload(0)
            texts.append(f"--- Weitergeleitete Nachricht: {_header(inner, 'subject')} ---")
            _collect(inner, texts, attachments, depth + 1)
            continue
        inline = not filename and part.get_content_disposition() != "attachment"
        if inline and ctype in ("text/plain", "text/html"):
            # The other version of a plain/HTML alternative is the same text again; a further
            # inline text part (a mailing list footer, a second text block) belongs to the body.
            if not alternative:
                texts.append(_part_text(part))
            continue
        if inline and parent == "multipart/related" and part["content-id"]:
            continue  # a picture embedded in the HTML layout: logo, signature, spacer
        data = part.get_payload(decode=True) or b""
        name = filename or f"anhang-{len(attachments) + 1}{mimetypes.guess_extension(ctype) or ''}"
        attachments.append(Attachment(filename=name, content_type=ctype, data=data))


def _leaves(
    part: EmailMessage, parent: str | None, alternative: bool, depth: int
) -> Iterator[tuple[EmailMessage, str | None, bool]]:
    """Leaf parts (a forwarded mail counts as one) with their container's content type and
    whether they are (inside) one version of a multipart/alternative, e.g. the HTML in
    alternative[plain, related[html, logo]]."""
    ctype = part.get_content_type()
    if part.is_multipart() and ctype != "message/rfc822":
        if depth >= _MAX_DEPTH:
            return
        for sub in part.get_payload():
            yield from _leaves(sub, ctype, alternative or ctype == "multipart/alternative", depth + 1)
    else:
        yield part, parent, alternative


def _part_text(part: EmailMessage) -> str:
    data = part.get_payload(decode=True) or b""
    text = decode_text(data, part.get_content_charset())
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    # Trailing spaces are signature markers and format=flowed soft breaks: not content.
    return "\n".join(line.rstrip() for line in normalize_text(text).strip().split("\n"))


# Labels that mean "Western 8-bit": mail software often declares these for UTF-8 text.
_WESTERN = frozenset({"ascii", "latin_1", "cp1252", "iso8859_15"})


def decode_text(data: bytes, declared: str | None) -> str:
    """Bytes of a text part -> str, whatever the declared charset says.

    Valid UTF-8 with non-ASCII bytes is almost never an accident in another 8-bit charset, so
    it wins over a "Western" declaration (the most common mislabel); an unknown or wrong
    charset falls back to Windows-1252, which maps every byte (WHATWG does the same for
    "iso-8859-1"). Nothing raises: a message with a few wrong letters beats no message.
    """
    try:
        codec = codecs.lookup(declared).name if declared else None
    except (LookupError, ValueError):  # unknown, or garbage such as a NUL in the name
        codec = None
    if codec is not None and codec.replace("-", "_") not in _WESTERN:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def html_to_text(html: str) -> str:
    """HTML mail body -> text, with the knowledge loader's walker (scripts, styles dropped)."""
    return read_text_of("mail.html", html.encode("utf-8"))


def _header(msg: EmailMessage, name: str) -> str:
    raw = next((v for k, v in msg.raw_items() if k.lower() == name), None)
    if raw is None:
        return ""
    if any("\udc80" <= c <= "\udcff" for c in raw):
        # Unencoded 8-bit bytes in a header (the parser keeps them as surrogates and would
        # show "�"): decode them like a body of unknown charset, then any RFC 2047 words.
        raw = decode_text(raw.encode("ascii", "surrogateescape"), None)
        try:
            value = str(make_header(decode_header(raw)))
        except Exception:  # malformed encoded words: the undecoded text is still readable
            value = raw
    else:
        try:
            value = str(msg[name])
        except Exception:  # the stdlib header parser trips over some malformed headers
            value = raw
    return " ".join(normalize_text(value).split())


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # a malformed RFC 2231 parameter
        name = ""
    # Only the last path component ("C:\fakepath\scan.pdf" from some webmailers), no control chars.
    name = PureWindowsPath(PurePosixPath(name).name).name
    return "".join(c for c in normalize_text(name) if c.isprintable()).strip()[:200]


def _message_id(msg: EmailMessage) -> str:
    raw = next((v for k, v in msg.raw_items() if k.lower() == "message-id"), "")
    ident = "".join(str(raw).split())  # folded or with stray spaces: the key must not depend on it
    return ident if 0 < len(ident) <= 500 else ""


def raw_hash(raw: bytes) -> str:
    data = raw.replace(b"\r\n", b"\n")
    if data.startswith(b"From "):  # an mbox "From " line some mail programs add on export
        data = data.split(b"\n", 1)[-1]
    return "sha256:" + hashlib.sha256(data.strip()).hexdigest()


def _received_at(msg: EmailMessage) -> datetime:
    now = datetime.now(timezone.utc)
    raw = next((v for k, v in msg.raw_items() if k.lower() == "date"), None)
    try:
        when = parsedate_to_datetime(" ".join(str(raw).split())) if raw else None
    except (TypeError, ValueError, IndexError, OverflowError):
        when = None
    if when is None:
        return now
    if when.tzinfo is None:  # "-0000": RFC 5322 says the time is UTC, zone unknown
        when = when.replace(tzinfo=timezone.utc)
    # A sender's clock far in the future would put the message at the top of every "oldest
    # first" list forever; a receipt time cannot be later than now.
    return now if when > now + timedelta(days=1) else when


# --- files -------------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Outlook .msg (and old Office files)


def iter_mail_files(path: Path, *, max_bytes: int = MAX_MAIL_BYTES) -> Iterator[tuple[str, bytes | MailError]]:
    """Yield `(source, raw)` for one .eml file, a folder of .eml files (recursively, sorted)
    or a Maildir (`cur/` and `new/`, oldest first). A file that cannot be read is yielded as
    `(source, MailError)` so that the caller reports it and continues; a path that does not
    exist or holds no mail raises `MailError`."""
    path = Path(path)
    if not path.exists():
        raise MailError(str(path), "Datei oder Ordner nicht gefunden")
    if path.is_file():
        yield str(path), _read_mail_file(path, max_bytes)
        return
    if (path / "cur").is_dir() and (path / "new").is_dir():
        yield from _iter_maildir(path, max_bytes)
        return
    files = [
        p
        for p in sorted(path.rglob("*"))
        if p.suffix.lower() == ".eml" and not any(part.startswith(".") for part in p.relative_to(path).parts)
    ]
    if not files:
        raise MailError(str(path), "Ordner enthält keine .eml-Dateien und ist kein Maildir (cur/, new/)")
    for file in files:
        yield str(file), _read_mail_file(file, max_bytes)


def _iter_maildir(path: Path, max_bytes: int) -> Iterator[tuple[str, bytes | MailError]]:
    box = mailbox.Maildir(path, factory=None, create=False)
    # Maildir names start with the delivery time: sorted keys are oldest first.
    for key in sorted(box.keys()):
        source = f"{path}#{key}"
        try:
            # Maildir has no size call without reading; the private name lookup would be worse.
            raw = box.get_bytes(key)
        except OSError as exc:
            yield source, MailError(source, f"Nachricht kann nicht gelesen werden ({exc.strerror or exc})")
            continue
        except KeyError:  # removed by a mail program while we were reading
            yield source, MailError(source, "Nachricht ist inzwischen verschwunden")
            continue
        yield source, _check_raw(source, raw, max_bytes)


def _read_mail_file(path: Path, max_bytes: int) -> bytes | MailError:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return MailError(str(path), f"Datei ist zu groß ({megabytes(size)}, höchstens {megabytes(max_bytes)})")
        raw = path.read_bytes()
    except OSError as exc:
        return MailError(str(path), f"Datei kann nicht gelesen werden ({exc.strerror or exc})")
    return _check_raw(str(path), raw, max_bytes)


def _check_raw(source: str, raw: bytes, max_bytes: int) -> bytes | MailError:
    if not raw.strip():
        return MailError(source, "Datei ist leer")
    if len(raw) > max_bytes:
        return MailError(source, f"Nachricht ist zu groß ({megabytes(len(raw))}, höchstens {megabytes(max_bytes)})")
    if raw.startswith(_OLE_MAGIC):
        return MailError(source, "Outlook-Datei (.msg) wird nicht unterstützt: bitte in Outlook als .eml speichern")
    if not re.match(rb"(From .*\r?\n)?[\x21-\x39\x3b-\x7e]+:", raw):
        return MailError(source, "keine E-Mail (beginnt nicht mit Kopfzeilen wie From: oder Subject:)")
    return raw


def megabytes(size: int) -> str:
    """1536000 -> "1,5 MB" (German decimal comma), for messages about size limits."""
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")
