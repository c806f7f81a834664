"""IMAP intake: fetch unseen messages from a mailbox, hand each to the intake, then mark it seen.

Example:
    config = ImapConfig(host="imap.example.org", user="posteingang", password="…")
    count = poll(config, intake.accept_raw)  # accept_raw(raw: bytes) commits the message first

Nothing is lost: a message is fetched with BODY.PEEK (fetching does not mark it seen) and
marked \\Seen only after `handle(raw)` returned. A crash, a lost connection or a failing
handler in between leaves it unseen, so the next poll fetches it again; the store
deduplicates by Message-ID (`mail.parse_email` -> `external_id`).

Why \\Seen and not a move to a "processed" folder: it works on every IMAP server (MOVE is an
extension, RFC 6851; COPY + EXPUNGE leaves a window for duplicates) and needs no right to create
folders, and the mailbox stays as the mail admin set it up: staff find every original where it
arrived. The price: the mailbox (or folder) must be Amtslotse's own, because a person who opens
a new message in a mail client marks it seen first, and it would then not be imported.

Handler errors: the failing message stays unseen, the remaining messages are still handled (one
poisoned message must not block the mailbox), then the first error is raised again.
"""

from __future__ import annotations

import base64
import imaplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from amtslotse.errors import UserError


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int = 993
    user: str = ""
    password: str = field(default="", repr=False)  # never in repr, logs or error messages
    folder: str = "INBOX"
    ssl: bool = True  # True: implicit TLS (port 993); False: plain IMAP (port 143), loopback or a trusted network only
    timeout_seconds: float = 30.0


class ImapError(UserError):
    """The mailbox cannot be read; the message is German and names no password."""


def poll(config: ImapConfig, handle: Callable[[bytes], None]) -> int:
    """Fetch every unseen message of `config.folder` (oldest first), call `handle(raw)` and
    mark the message seen after it returned. Returns the number of messages handled."""
    client = _connect(config)
    try:
        _login(client, config)
        _select(client, config)
        handled, failure = 0, None
        for uid in _unseen(client):
            raw = _fetch(client, uid)
            if raw is None:  # deleted by someone else since the search
                continue
            try:
                handle(raw)
            except Exception as exc:
                failure = failure or exc
                continue
            _command(client, "STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
            handled += 1
        if failure is not None:
            raise failure
        return handled
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    where = f"{config.host}:{config.port}"
    try:
        if config.ssl:
            return imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=ssl.create_default_context(), timeout=config.timeout_seconds
            )
        return imaplib.IMAP4(config.host, config.port, timeout=config.timeout_seconds)
    except socket.gaierror:
        raise ImapError(f"IMAP-Server „{config.host}“ nicht gefunden: Rechnername prüfen") from None
    except ConnectionRefusedError:
        raise ImapError(f"IMAP-Server {where} nicht erreichbar: Verbindung abgelehnt (Rechner und Port prüfen)") from None
    except TimeoutError:
        raise ImapError(
            f"IMAP-Server {where} antwortet nicht (Zeitüberschreitung nach {config.timeout_seconds:.0f} s)"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise ImapError(f"TLS-Zertifikat des IMAP-Servers {where} ist ungültig ({exc.verify_message})") from None
    except ssl.SSLError:
        raise ImapError(f"TLS-Verbindung zu {where} fehlgeschlagen: passen Port und SSL-Einstellung zusammen?") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unerwartete Antwort"
        raise ImapError(f"IMAP-Server {where} nicht erreichbar ({detail})") from None


def _login(client: imaplib.IMAP4, config: ImapConfig) -> None:
    try:
        if "AUTH=PLAIN" in client.capabilities:
            # SASL PLAIN carries UTF-8; imaplib's LOGIN sends ASCII only and fails on "ä" in a password.
            secret = f"\0{config.user}\0{config.password}".encode()
            client.authenticate("PLAIN", lambda _challenge: secret)
        elif "LOGINDISABLED" in client.capabilities:
            raise ImapError("IMAP-Server erlaubt keine Anmeldung ohne Verschlüsselung: bitte SSL einschalten")
        else:
            client.login(config.user, config.password)
    except imaplib.IMAP4.error:
        raise ImapError(
            f"Anmeldung am IMAP-Server {config.host} fehlgeschlagen: Benutzername oder Passwort falsch"
        ) from None
    except UnicodeEncodeError:
        raise ImapError("IMAP-Server nimmt Benutzername oder Passwort mit Umlauten nicht an (kein AUTH=PLAIN)") from None
    except OSError as exc:
        raise _lost(exc) from None


def _select(client: imaplib.IMAP4, config: ImapConfig) -> None:
    try:
        status, _ = client.select(_quote(config.folder))
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise _lost(exc) from None
    except imaplib.IMAP4.error:
        status = "NO"
    if status != "OK":
        raise ImapError(f"IMAP-Ordner „{config.folder}“ nicht gefunden oder nicht lesbar")


def _unseen(client: imaplib.IMAP4) -> list[bytes]:
    data = _command(client, "SEARCH", "UNSEEN")
    return sorted((uid for line in data if line for uid in line.split()), key=int)


def _fetch(client: imaplib.IMAP4, uid: bytes) -> bytes | None:
    for item in _command(client, "FETCH", uid, "(BODY.PEEK[])"):
        # imaplib returns (b'7 (UID 7 BODY[] {1234}', b'<raw>') for a literal; FLAGS updates
        # and the closing b')' come as plain bytes.
        if isinstance(item, tuple) and b"BODY[]" in item[0]:
            return item[1]
    return None


def _command(client: imaplib.IMAP4, command: str, *args) -> list:
    try:
        status, data = client.uid(command, *args)
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise _lost(exc) from None
    except imaplib.IMAP4.error:
        status, data = "NO", []
    if status != "OK":
        raise ImapError(f"IMAP-Befehl {command} vom Server abgelehnt")
    return data


def _lost(exc: BaseException) -> ImapError:
    return ImapError(f"Verbindung zum IMAP-Server unterbrochen ({type(exc).__name__})")


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3):
    "Eingang/Bürgergeld" -> '"Eingang/B&APw-rgergeld"'."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            utf7 = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=").decode()
            out.append("&" + utf7.replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    name = "".join(out)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
