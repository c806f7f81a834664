"""Browser tests of the citizen chat widget: Debian's Chromium driven by Playwright for Python,
against the real app (`app_server` in tests/app_server.py) and axe-core from node_modules.

Set-up (CI does the same): ``apt-get install -y chromium``, ``pip install -e .[test]``
(playwright), ``npm ci`` (axe-core). Playwright's own browser download is never used: Chromium
is launched from /usr/bin/chromium. A missing Chromium, Playwright or axe-core fails the tests
with a message saying what to install; they never skip.

    def test_something(chat):                      # a fresh browser context, 360 x 740 (a phone)
        chat.open_standalone()
        chat.ask("Zahlt das Jobcenter die Nebenkosten?")
        chat.axe_clean("answered")                 # 0 violations, or the test fails listing them
        chat.shot("answered")                      # test-output/screenshots/answered.png

Screenshots: every failing test leaves FAILED-<test>.png in test-output/screenshots/.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-output" / "screenshots"
LAUNCH_ARGS = [
    "--lang=de-DE",
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
TENANT = "musterkreis"

# JavaScript helpers evaluated in the page. The widget lives in the open shadow root of
# <amtslotse-chat>; Playwright's CSS locators pierce it, these helpers do the same by hand.
ACTIVE_ELEMENT = r"""() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  if (!el) return null;
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className && String(el.className),
          text: (el.innerText || el.value || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim().slice(0, 80),
          inShadow: el.getRootNode() !== document,
          outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
}"""

# Records the order in which the parts of an answer appear (status, sources, streamed text,
# done) with a MutationObserver, so the test checks the order, not the timing.
RECORD_STREAM = """() => {
  const root = document.querySelector('amtslotse-chat').shadowRoot;
  window.__alSeen = [];
  const seen = (name) => { if (!window.__alSeen.includes(name)) window.__alSeen.push(name); };
  const check = () => {
    const turns = root.querySelectorAll('.al-bot');
    const turn = turns[turns.length - 1];
    if (!turn || turn.dataset.recorded) return;
    if (turn.querySelector('.al-status')) seen('status');
    if (turn.querySelector('.al-sources')) seen('sources');
    if (turn.querySelector('.al-streaming') && turn.querySelector('.al-streaming').textContent) seen('text');
    if (turn.getAttribute('aria-busy') === 'false') { seen('done'); turn.dataset.recorded = '1'; }
  };
  new MutationObserver(check).observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci` in the repository (package.json, package-lock.json).")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing ({CHROMIUM}): `apt-get install -y chromium` (Debian). The browser tests need it.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `pip install -e .[test]` (playwright; never `playwright install`).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def screenshot_folder():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("FAILED-*.png"):  # failures of an earlier run would mislead
        old.unlink()
    return SCREENSHOTS


@dataclass
class HostSite:
    """A Landkreis website on another port (another origin) that embeds the widget with one tag."""

    url: str
    folder: Path

    def page(self, name: str, app_url: str, tenant: str = TENANT) -> str:
        html = HOST_PAGE.replace("{APP}", app_url).replace("{TENANT}", tenant)
        (self.folder / name).write_text(html, encoding="utf-8")
        return f"{self.url}/{name}"


# The host page's CSS tries hard to restyle everything: the widget must look the same anyway.
HOST_PAGE = """<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Landkreis Musterkreis – Jobcenter</title>
<link rel="icon" href="data:,">
<style>
  html { font-size: 10px; }
  body { margin: 0; font: 2.2rem/1.1 Georgia, serif; color: #333333; letter-spacing: 0.08em; text-align: center; }
  button { background: #ff69b4 !important; color: #ffff00 !important; font-size: 30px !important; }
  div, section, aside, p { border: 3px dashed #cc0000; }
  a { color: #0b4f2a; }
</style>
<script src="{APP}/widget.js" data-tenant="{TENANT}" defer></script>
</head>
<body>
<header><p><a href="#inhalt">Zum Inhalt springen</a></p></header>
<main id="inhalt">
<h1>Jobcenter Landkreis Musterkreis</h1>
<p>Willkommen auf der Seite des Jobcenters. Öffnungszeiten: Montag bis Freitag 8 bis 12 Uhr.</p>
<p><a href="#kontakt">Kontakt</a></p>
</main>
</body>
</html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output readable
        pass


@pytest.fixture(scope="session")
def host_site(tmp_path_factory) -> HostSite:
    folder = tmp_path_factory.mktemp("host-site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HostSite(f"http://127.0.0.1:{server.server_address[1]}", folder)
    server.shutdown()
    server.server_close()


@dataclass
class Chat:
    """One browser tab with the widget, and what the checks need."""

    page: object
    app_url: str
    axe_source: str = field(repr=False)
    problems: list[str] = field(default_factory=list, repr=False)
    requests: list[dict] = field(default_factory=list, repr=False)

    # --- opening --------------------------------------------------------------------------
    def open_standalone(self, tenant: str = TENANT) -> None:
        self.page.goto(f"{self.app_url}/chat/{tenant}")
        self.page.locator("#al-input, .al-error").first.wait_for()

    def open_host_page(self, url: str) -> None:
        self.page.goto(url)
        self.page.locator(".al-launcher").wait_for()

    # --- the conversation -----------------------------------------------------------------
    def ask(self, text: str) -> None:
        """Types the question, sends it with Enter and waits until the answer is complete."""
        done = self.page.locator('.al-bot[aria-busy="false"]').count()
        self.page.evaluate(RECORD_STREAM)
        self.page.locator("#al-input").fill(text)
        self.page.locator("#al-input").press("Enter")
        self.page.locator('.al-bot[aria-busy="false"]').nth(done).wait_for()

    def stream_order(self) -> list[str]:
        return self.page.evaluate("() => window.__alSeen")

    def last_answer(self):
        return self.page.locator(".al-bot").last

    def active(self) -> dict:
        return self.page.evaluate(ACTIVE_ELEMENT)

    def shadow(self, script: str):
        """Evaluates `script` (a function of the widget's shadow root) in the page."""
        return self.page.evaluate(f"() => ({script})(document.querySelector('amtslotse-chat').shadowRoot)")

    def message_posts(self) -> list[dict]:
        return [r for r in self.requests if re.search(r"/api/v1/conversations/[^/]+/messages$", r["url"])]

    # --- checks ---------------------------------------------------------------------------
    def axe_clean(self, state: str) -> None:
        """Runs axe-core (WCAG 2.x A/AA and best practices) on the whole page; fails listing the violations."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            # evaluate() runs as the DevTools protocol: the page's strict CSP (no inline script) stays in force.
            self.page.evaluate(self.axe_source)
        before = len(self.problems)
        violations = self.page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
        # axe itself applies inline styles while it measures (e.g. colour contrast); the page's
        # CSP blocks and reports them. Those reports, from the time axe ran, are axe's, not ours.
        self.problems[before:] = [p for p in self.problems[before:] if "Applying inline style violates" not in p]
        if violations:
            self.shot(f"axe-{state}")
            lines = [f"axe-core: {len(violations)} violation(s) in state '{state}':"]
            for v in violations:
                lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
                for node in v["nodes"][:5]:
                    lines.append(f"    {node['target']}: {node['failureSummary'].replace(chr(10), ' ')}")
            print("\n".join(lines))
            pytest.fail("\n".join(lines), pytrace=False)

    def shot(self, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def chat(browser, app_server, axe_source, request) -> Chat:
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    chat = Chat(page, app_server.url, axe_source)
    # Console errors include the browser's CSP reports ("Refused to load ..."): any is a failure.
    page.on("console", lambda m: chat.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: chat.problems.append(f"page error: {e}"))
    page.on("request", lambda r: chat.requests.append(
        {"url": r.url, "method": r.method, "headers": r.headers, "body": r.post_data}))
    yield chat
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        chat.shot(f"FAILED-{request.node.name}")
    context.close()
    if chat.problems and report is not None and report.passed:
        pytest.fail("Errors in the browser console:\n" + "\n".join(chat.problems), pytrace=False)


def request_json(entry: dict) -> dict:
    return json.loads(entry["body"] or "{}")
