"""A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`) on a free loopback port.

One server per test session, with a temporary configuration (no TLS, plain login allowed on
loopback, one user from a passwd-file, Maildir in a temporary folder) that includes nothing from
/etc/dovecot, so a system Dovecot on the same machine does not matter. Tests put mail in with
IMAP APPEND and read flags back through a second connection; each test uses its own folder.

Root (as in CI): Dovecot refuses mail access as uid 0, so the mail user is `nobody` and the
data folder lives outside pytest's private (0700) temp folder. Other users: Dovecot runs as
that user, with its login and internal users set to it.

If Dovecot is missing or does not start, the IMAP tests FAIL rather than skip: CI installs
`dovecot-imapd`, and a skipped IMAP test would look green.

The fixture is registered in conftest.py (one server per test session). In a test module:

    def test_x(dovecot):
        dovecot.append(raw, folder="x")
        poll(dovecot.config("x"), handle)
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from amtslotse.inbox.imap import ImapConfig, _quote
from llm_server import _tail, free_port

USER = "posteingang"
PASSWORD = "Geheim-Päckchen-42"  # with an umlaut: the login must carry UTF-8


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    log_path: Path

    def config(self, folder: str = "INBOX", *, password: str = PASSWORD) -> ImapConfig:
        return ImapConfig(host=self.host, port=self.port, user=USER, password=password, folder=folder, ssl=False)

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        client.authenticate("PLAIN", lambda _: f"\0{USER}\0{PASSWORD}".encode())
        return client

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.create(_quote(folder))  # "NO: already exists" is fine
            status, detail = client.append(_quote(folder), None, None, raw)
            assert status == "OK", detail

    def unseen(self, folder: str = "INBOX") -> list[bytes]:
        """Raw bytes of the messages still unseen in `folder` (read without marking them seen)."""
        with self.client() as client:
            status, _ = client.select(_quote(folder), readonly=True)
            assert status == "OK", f"folder {folder} missing"
            _, data = client.uid("SEARCH", "UNSEEN")
            out = []
            for uid in data[0].split():
                _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                out.append(next(p[1] for p in parts if isinstance(p, tuple)))
            return out

    def count(self, folder: str = "INBOX") -> int:
        with self.client() as client:
            status, data = client.select(_quote(folder), readonly=True)
            assert status == "OK", f"folder {folder} missing"
            return int(data[0])


def _dovecot_binary() -> str:
    found = shutil.which("dovecot", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if found is None:
        pytest.fail("Dovecot is not installed: apt-get install dovecot-imapd (CI installs it; the IMAP tests need it).")
    return found


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        mail_user = pwd.getpwnam("nobody")
        run_as = ""  # Dovecot's own users (dovecot, dovenull) from the Debian package
    else:
        mail_user = pwd.getpwuid(os.geteuid())
        group = grp.getgrgid(os.getegid()).gr_name
        run_as = (
            f"default_internal_user = {mail_user.pw_name}\ndefault_internal_group = {group}\n"
            f"default_login_user = {mail_user.pw_name}\nservice anvil {{\n  chroot =\n}}\n"
        )
    home = root / "home"
    home.mkdir()
    os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:~/Maildir
{run_as}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={home}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _wait_ready(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Dovecot exited with code {process.returncode}:\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(200).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"Dovecot did not answer on port {port} within 30 s:\n{_tail(log)}")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = _dovecot_binary()
    # Not pytest's tmp_path: its parents are 0700, and the mail user (nobody, when we are
    # root) must reach its Maildir.
    root = Path(tempfile.mkdtemp(prefix="amtslotse-dovecot-"))
    root.chmod(0o755)
    port = free_port()
    (root / "dovecot.conf").write_text(_config(root, port), encoding="utf-8")
    log = root / "dovecot.log"
    with log.open("ab") as stderr:  # start-up errors come before log_path is opened
        process = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait_ready(process, port, log)
        yield Dovecot(host="127.0.0.1", port=port, log_path=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
