"""The citizen chat widget in a real browser (Chromium) against the real app and the starter pack.

A citizen asks and sees status, sources and text; opens a source; gives feedback; hands an
individual case over and gets a reference; sees emergency contacts when in need; uses the
widget embedded with one script tag on a Landkreis page of another origin, only with the
keyboard, in Arabic, zoomed. Every state is checked with axe-core (0 violations).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from amtslotse.knowledge.ingest import embed_missing, ingest_paths

from .conftest import TENANT, request_json

NEBENKOSTEN = "Zahlt das Jobcenter die Nebenkosten?"  # a curated answer (its sources have no passage)
PARKPLAETZE = "Gibt es Parkplätze am Jobcenter?"  # extractive from the Landkreis's page: a passage of the store

# The loaders strip HTML tags from documents (checked below), so what can reach the browser
# through a passage is Markdown: a javascript: link must stay text. Raw HTML is tested on the
# renderer itself and through the citizen's own message.
INJECTION_DOC = """Quokka-Sprechstunde im Testkreis

Die Quokka-Sprechstunde findet jeden Dienstag im Zimmer 12 statt. <img src=x onerror="window.__pwned=1"> Bitte bringen Sie den **Quokka-Ausweis** mit.

Mehr zur Quokka-Sprechstunde steht unter [Klick hier](javascript:window.__pwned=2) und auf der Seite https://testkreis.example/quokka des Landkreises.
"""

INJECTION_MARKDOWN = """<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script>
**<b onclick="window.__pwned=3">fett</b>** <iframe src="javascript:window.__pwned=4"></iframe>

- [Klick](javascript:window.__pwned=5)
- [JS groß](JaVaScRiPt:window.__pwned=6)
- [Daten](data:text/html,hallo)
- [gut](https://example.org/seite)
- [relativ](/api/v1/handovers) [ohne Schema](//evil.example/x)
<a href="javascript:window.__pwned=7" onmouseover="window.__pwned=8">direkt</a>"""


def conversation_of(chat) -> str:
    return re.search(r"/conversations/([^/]+)/messages$", chat.message_posts()[-1]["url"]).group(1)


def json_answer(app_url: str, text: str, tenant: str = TENANT) -> dict:
    """The same question through the JSON API (a fresh conversation): what the widget must show."""
    response = httpx.post(f"{app_url}/api/v1/conversations/{uuid.uuid4()}/messages",
                          json={"text": text, "tenant": tenant}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_citizen_asks_sees_status_sources_and_text_opens_a_source_and_gives_feedback(chat, app_server):
    chat.open_standalone()
    intro = chat.page.locator(".al-intro")
    assert "KI-Assistent" in intro.inner_text() and "30 Tagen" in intro.inner_text()  # AI and data notice first
    assert intro.get_by_role("link", name=re.compile("Datenschutzerklärung")).get_attribute("href").startswith("https://")
    assert intro.get_by_role("link", name=re.compile("Erklärung zur Barrierefreiheit")).count() == 1
    chat.axe_clean("standalone-start")
    chat.shot("01-standalone-start")

    chat.ask(NEBENKOSTEN)
    assert chat.stream_order() == ["status", "sources", "text", "done"]
    post = chat.message_posts()[-1]
    assert post["headers"]["accept"] == "text/event-stream" and post["headers"].get("cookie") is None
    assert request_json(post) == {"tenant": TENANT, "text": NEBENKOSTEN, "simple_language": False, "language": None, "notice_shown": True}
    expected = json_answer(app_server.url, NEBENKOSTEN)
    answer = chat.last_answer()
    assert "Nebenkosten" in answer.locator(".al-answer").inner_text()
    assert "Quellen:" not in answer.locator(".al-answer").inner_text()  # shown as buttons instead
    labels = answer.locator(".al-source").all_inner_texts()
    assert labels == [f"[{n}] {c['citation']}" for n, c in enumerate(expected["citations"], start=1)]
    expect(chat.page.locator("[aria-live=polite]")).to_have_text(re.compile(r"^Assistent: .*Nebenkosten", re.DOTALL))
    chat.axe_clean("answered")
    chat.shot("02-answered")

    # A source with its passage text: ask for one that cites a passage of the store.
    chat.ask(PARKPLAETZE)
    citations = json_answer(app_server.url, PARKPLAETZE)["citations"]
    index = next(i for i, c in enumerate(citations) if c["passage_id"] is not None)
    passage = app_server.services.store.get_passages(TENANT, [citations[index]["passage_id"]])[0]
    button = chat.last_answer().locator(".al-source").nth(index)
    button.click()
    dialog = chat.page.locator("dialog.al-dialog")
    dialog.locator(".al-passage p").first.wait_for()
    chat.page.locator(".al-loading").wait_for(state="detached")
    assert dialog.locator(".al-dialog-title").inner_text() == citations[index]["citation"]
    first_words = " ".join(passage.text.split()[:6]).replace("**", "")
    assert first_words in " ".join(dialog.locator(".al-passage").inner_text().split())
    assert re.search(r"Stand: \d{2}\.\d{2}\.\d{4}", dialog.locator(".al-meta").inner_text())
    chat.axe_clean("source-open")
    chat.shot("03-source-open")
    dialog.get_by_role("button", name="Schließen").click()
    assert not dialog.is_visible() and chat.active()["cls"] == "al-source"  # focus back on the citation

    feedback = chat.last_answer().locator(".al-feedback")
    feedback.get_by_role("button", name="Nein").click()
    feedback.locator(".al-comment textarea").wait_for()
    assert feedback.get_by_role("button", name="Nein").get_attribute("aria-pressed") == "true"
    chat.axe_clean("feedback-comment")
    feedback.locator(".al-comment textarea").fill("Mir fehlt, ob es Parkplätze für Menschen mit Behinderung gibt.")
    feedback.get_by_role("button", name="Kommentar senden").click()
    feedback.get_by_text("Danke, Ihr Kommentar wurde gesendet.").wait_for()
    turn = app_server.services.store.recent_turns(TENANT, conversation_of(chat), 1)[0]
    assert turn.rating == "down" and "Behinderung" in turn.comment
    chat.shot("04-feedback-sent")


def test_an_individual_case_is_handed_over_with_the_citizens_consent(chat):
    chat.open_standalone()
    chat.ask("Wo ist mein Geld?")
    answer = chat.last_answer()
    assert "persönlichen Fall" in answer.locator(".al-answer").inner_text()
    answer.get_by_role("button", name="An Mitarbeitende weitergeben").click()
    summary = answer.get_by_label("Zusammenfassung für die Mitarbeitenden")
    assert "Wo ist mein Geld?" in summary.input_value() and chat.active()["tag"] == "textarea"
    summary.fill(summary.input_value() + "\nBitte rufen Sie mich an.")
    answer.get_by_label(re.compile("Wie können wir Sie erreichen")).fill("0171 2345678")
    answer.get_by_role("button", name="Absenden").click()  # without consent: nothing is sent
    assert "Einverständnis" in answer.locator(".al-handover-form .al-error").inner_text()
    consent = answer.get_by_role("checkbox")
    assert consent.get_attribute("aria-invalid") == "true" and chat.active()["tag"] == "input"
    assert not [r for r in chat.requests if r["url"].endswith("/api/v1/handovers")]
    chat.axe_clean("handover-needs-consent")
    chat.shot("05-handover-form")

    consent.check()
    answer.get_by_role("button", name="Absenden").click()
    confirmation = answer.locator(".al-confirm")
    confirmation.wait_for()
    assert re.fullmatch(r"MK-[\w-]+", confirmation.locator(".al-reference").inner_text())
    assert "So geht es weiter:" in confirmation.inner_text()
    assert chat.active()["cls"] == "al-confirm"  # focus moved to the confirmation
    sent = request_json([r for r in chat.requests if r["url"].endswith("/api/v1/handovers")][-1])
    assert sent["consent"] is True and sent["contact"] == "0171 2345678"
    assert sent["summary"].endswith("Bitte rufen Sie mich an.") and sent["conversation_id"] == conversation_of(chat)
    chat.axe_clean("handover-done")
    chat.shot("06-handover-done")


def test_unsure_offers_questions_that_may_be_meant_as_buttons_and_one_click_asks_it(chat, app_server):
    offered = json_answer(app_server.url, "Miete?")["suggestions"]
    assert offered
    chat.open_standalone()
    chat.ask("Miete?")
    answer = chat.last_answer()
    buttons = answer.locator(".al-suggestions button")
    assert buttons.all_inner_texts() == [s["question"] for s in offered]
    assert "Meinten Sie vielleicht" not in answer.locator(".al-answer").inner_text()  # the buttons, not the plain list
    chat.axe_clean("suggestions")
    done = chat.page.locator('.al-bot[aria-busy="false"]').count()
    buttons.first.click()
    chat.page.locator('.al-bot[aria-busy="false"]').nth(done).wait_for()
    assert chat.page.locator(".al-user-text").last.inner_text() == offered[0]["question"]
    assert "keine sichere Antwort" not in chat.last_answer().locator(".al-answer").inner_text()
    assert json_answer(app_server.url, offered[0]["question"])["mode"] == "curated"


def test_urgent_need_shows_the_emergency_contacts_prominently(chat):
    chat.open_standalone()
    chat.ask("Ich habe kein Geld mehr für Essen")
    box = chat.last_answer().locator(".al-urgent")
    assert box.get_attribute("role") == "alert" and box.is_visible()
    assert "Schnelle Hilfe in einer Notlage" in box.inner_text() and "Notfallnummer des Jobcenters" in box.inner_text()
    hrefs = box.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert "tel:01234567899" in hrefs and "tel:110" not in hrefs  # the contacts that fit hunger, not the police
    top = box.bounding_box()
    log = chat.page.locator(".al-messages").bounding_box()
    assert log["y"] <= top["y"] < log["y"] + log["height"]  # scrolled into view, not below the fold
    chat.axe_clean("urgent")
    chat.shot("07-urgent")


def test_one_script_tag_embeds_the_widget_on_a_landkreis_page_of_another_origin(chat, host_site, app_server):
    chat.page.set_viewport_size({"width": 1280, "height": 800})
    chat.open_host_page(host_site.page("index.html", app_server.url))
    assert chat.page.locator(".al-config-error").count() == 0, (
        "The widget on a page of another origin could not load its configuration: the API needs CORS "
        f"(Access-Control-Allow-Origin) on /api/v1. Browser console: {chat.problems}")
    launcher = chat.page.locator(".al-launcher")
    style = launcher.evaluate("b => { const s = getComputedStyle(b); return [s.backgroundColor, s.color, s.fontSize, s.display]; }")
    assert style == ["rgb(0, 80, 125)", "rgb(255, 255, 255)", "16px", "flex"]  # the page's CSS does not reach in
    assert chat.shadow("root => getComputedStyle(root.querySelector('.al-root')).letterSpacing") == "normal"
    chat.axe_clean("host-closed")
    chat.shot("08-host-closed")

    for _ in range(10):  # keyboard only: Tab to the launcher (after the page's own links)
        chat.page.keyboard.press("Tab")
        if chat.active()["cls"] == "al-launcher":
            break
    assert chat.active()["cls"] == "al-launcher"
    chat.page.keyboard.press("Enter")
    assert launcher.get_attribute("aria-expanded") == "true" and chat.active()["id"] == "al-input"
    chat.ask(NEBENKOSTEN)
    assert chat.stream_order() == ["status", "sources", "text", "done"]
    assert chat.message_posts()[-1]["url"].startswith(app_server.url)  # cross-origin to Amtslotse
    assert chat.last_answer().locator(".al-source").count() >= 1
    chat.axe_clean("host-answered")
    chat.shot("09-host-answered")
    chat.page.keyboard.press("Escape")
    assert not chat.page.locator(".al-panel").is_visible() and chat.active()["cls"] == "al-launcher"


def test_on_a_phone_the_embedded_chat_covers_the_page_and_keeps_the_focus_inside(chat, host_site, app_server):
    chat.open_host_page(host_site.page("phone.html", app_server.url))
    assert chat.page.locator(".al-config-error").count() == 0, f"API not reachable cross-origin (CORS?): {chat.problems}"
    chat.page.locator(".al-launcher").click()
    box = chat.page.locator(".al-panel").bounding_box()
    assert box == {"x": 0, "y": 0, "width": 360, "height": 740}
    chat.page.locator(".al-close").focus()
    chat.page.keyboard.press("Shift+Tab")  # from the first control backwards: to the last, not into the page
    assert chat.active()["cls"] == "al-send"
    chat.page.keyboard.press("Tab")
    assert chat.active()["cls"] == "al-close"
    chat.axe_clean("host-phone-open")
    chat.shot("09b-host-phone-open")
    chat.page.keyboard.press("Enter")
    assert chat.active()["cls"] == "al-launcher" and not chat.page.locator(".al-panel").is_visible()


def test_keyboard_only_with_a_sensible_focus_order_and_visible_focus(chat, app_server):
    chat.open_standalone()
    order = []
    for _ in range(12):
        chat.page.keyboard.press("Tab")
        active = chat.active()
        assert active["inShadow"] and active["outlineStyle"] != "none" and active["outlineWidth"] >= 2, active
        order.append(active["id"] or active["cls"] or active["text"])
        if active["cls"] == "al-send":
            break
    assert order == ["al-language", "al-simple", "al-messages", "Datenschutzerklärung (öffnet in neuem Fenster)",
                     "Erklärung zur Barrierefreiheit (öffnet in neuem Fenster)", "Impressum (öffnet in neuem Fenster)",
                     "al-input", "al-send"], order
    chat.page.keyboard.press("Shift+Tab")
    assert chat.active()["id"] == "al-input"
    chat.page.keyboard.type("Muss ich mein Auto verkaufen?")
    chat.page.keyboard.press("Enter")
    chat.page.locator('.al-bot[aria-busy="false"]').wait_for()
    assert chat.active()["id"] == "al-input"  # typing can go on

    for _ in range(30):  # back into the answer to its last source
        chat.page.keyboard.press("Shift+Tab")
        if chat.active()["cls"] == "al-source":
            break
    source = chat.active()
    assert source["cls"] == "al-source", source
    chat.page.keyboard.press("Enter")
    assert chat.page.locator("dialog.al-dialog[open]").count() == 1
    assert chat.active()["cls"] == "al-dialog-close"  # focus moves into the dialog
    chat.page.keyboard.press("Escape")
    assert chat.page.locator("dialog.al-dialog[open]").count() == 0 and chat.active()["text"] == source["text"]

    for _ in range(10):
        chat.page.keyboard.press("Tab")
        if "al-thumb-up" in chat.active()["cls"]:
            break
    assert "al-thumb-up" in chat.active()["cls"]
    chat.page.keyboard.press("Space")
    chat.page.locator(".al-comment textarea").wait_for()
    chat.page.keyboard.press("Tab")  # past the other thumb to the comment field
    chat.page.keyboard.press("Tab")
    assert chat.active()["tag"] == "textarea"
    chat.page.keyboard.type("Verständlich.")
    chat.page.keyboard.press("Tab")
    chat.page.keyboard.press("Enter")
    chat.page.get_by_text("Danke, Ihr Kommentar wurde gesendet.").wait_for()
    assert chat.active()["cls"] == "al-feedback-status"  # the focus is not lost with the hidden form
    turn = app_server.services.store.recent_turns(TENANT, conversation_of(chat), 1)[0]
    assert turn.rating == "up" and turn.comment == "Verständlich."
    chat.shot("10-keyboard-feedback")


def test_language_switch_arabic_right_to_left_and_simple_language(chat):
    chat.open_standalone()
    missing = chat.page.evaluate("""async () => {
      const i18n = await import('/widget/i18n.js');
      return Object.fromEntries(Object.keys(i18n.LANGUAGES).map((lang) => [lang, i18n.missingKeys(lang)]));
    }""")
    assert missing == {lang: [] for lang in ["de", "en", "uk", "ru", "tr", "ar"]}
    chat.page.get_by_label("Sprache", exact=True).select_option("ar")
    assert chat.shadow("root => [root.querySelector('.al-root').lang, root.querySelector('.al-root').dir]") == ["ar", "rtl"]
    assert chat.page.locator(".al-send").inner_text() == "إرسال"
    chat.page.get_by_role("switch").check()
    chat.ask(NEBENKOSTEN)
    body = request_json(chat.message_posts()[-1])
    assert body["simple_language"] is True and body["language"] == "ar"
    assert chat.last_answer().locator(".al-answer").get_attribute("dir") == "auto"  # German answer stays left-to-right
    chat.axe_clean("arabic")
    chat.shot("11-arabic")
    chat.page.reload()  # the choice holds for the session (sessionStorage), without cookies
    chat.page.locator("#al-input").wait_for()
    assert chat.page.locator(".al-send").inner_text() == "إرسال" and chat.page.get_by_role("switch").is_checked()
    assert chat.page.context.cookies() == []


@pytest.mark.parametrize("viewport", [{"width": 640, "height": 400}, {"width": 320, "height": 640}], ids=["zoom-200", "320px"])
def test_reflows_without_horizontal_scrolling_when_zoomed(chat, viewport):
    # 640 x 400 CSS pixels is a 1280 x 800 screen at 200 % zoom.
    chat.page.set_viewport_size(viewport)
    chat.open_standalone()
    chat.ask("Ich habe kein Geld mehr für Essen")
    widths = chat.shadow("""root => { const panel = root.querySelector('.al-panel');
      return [document.documentElement.scrollWidth, window.innerWidth, panel.scrollWidth, panel.clientWidth]; }""")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    for selector in ("#al-input", ".al-send", ".al-urgent a.al-tel >> nth=0", ".al-thumb-up"):
        element = chat.page.locator(selector)
        element.scroll_into_view_if_needed()
        box = element.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (selector, box)
    chat.axe_clean(f"reflow-{viewport['width']}")
    chat.shot(f"12-reflow-{viewport['width']}")


@pytest.fixture(scope="module")
def injection_tenant(app_server, tmp_path_factory) -> str:
    """A tenant whose only page carries injection attempts (its own tenant: other tests keep their data)."""
    path = tmp_path_factory.mktemp("injection") / "quokka.txt"
    path.write_text(INJECTION_DOC, encoding="utf-8")
    services = app_server.services
    report = ingest_paths([path], services.store, services.settings, tenant="browsertest")
    assert not report.failed, report
    embed_missing(services.store, services.embedder, services.settings.embed_batch_size)
    return "browsertest"


def test_markdown_from_answers_and_passages_cannot_inject_html_or_script(chat, injection_tenant):
    chat.open_standalone(injection_tenant)
    rendered = chat.page.evaluate("""async (text) => {
      const { renderMarkdown } = await import('/widget/markdown.js');
      const box = document.createElement('div');
      box.append(renderMarkdown(text));
      const all = [...box.querySelectorAll('*')];
      return {
        tags: [...new Set(all.map((el) => el.tagName.toLowerCase()))].sort(),
        handlers: all.flatMap((el) => [...el.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
        hrefs: [...box.querySelectorAll('a')].map((a) => a.href),
        text: box.textContent,
      };
    }""", INJECTION_MARKDOWN)
    assert rendered["tags"] == ["a", "br", "li", "p", "strong", "ul"], rendered
    assert rendered["handlers"] == [] and rendered["hrefs"] == ["https://example.org/seite"], rendered
    assert '<img src=x onerror="window.__pwned=1">' in rendered["text"] and "<script>" in rendered["text"]

    chat.ask('<img src=x onerror="window.__pwned=9"> Wo steht mehr zur Quokka-Sprechstunde?')
    assert chat.page.locator(".al-user-text").inner_text().startswith("<img src=x")  # the citizen's text, as text
    answer = chat.last_answer().locator(".al-answer")
    assert "Klick hier" in answer.inner_text()  # the label stays, the javascript: link does not
    assert answer.locator("a").evaluate_all("links => links.map(a => a.href)") == ["https://testkreis.example/quokka"]
    chat.last_answer().locator(".al-source").first.click()
    passage = chat.page.locator("dialog.al-dialog .al-passage")
    passage.locator("strong").wait_for()
    assert passage.locator("strong").inner_text() == "Quokka-Ausweis"
    assert "<img" not in passage.inner_text()  # the loader dropped the tag: nothing of it reaches the browser
    assert passage.locator("a").evaluate_all("links => links.map(a => a.href)") == ["https://testkreis.example/quokka"]
    assert chat.page.evaluate("() => window.__pwned") is None
    assert chat.shadow("root => root.querySelectorAll('img, script, iframe, object, embed').length") == 0
    chat.axe_clean("injection")
    chat.shot("13-injection")


def test_an_unknown_landkreis_gets_a_clear_german_message(chat):
    chat.open_standalone("gibtesnicht")
    error = chat.page.locator(".al-config-error")
    assert error.get_attribute("role") == "alert" and "gibtesnicht" in error.inner_text()
    chat.axe_clean("unknown-tenant")
    chat.problems[:] = [p for p in chat.problems if "404" not in p]  # the expected failed config request


def test_pages_and_files_are_served_with_a_strict_content_security_policy(app_server):
    with httpx.Client(base_url=app_server.url) as client:
        page = client.get(f"/chat/{TENANT}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=", page.text)  # nothing inline
        loader = client.get("/widget.js")
        assert loader.headers["content-type"].startswith("text/javascript") and "data-tenant" in loader.text
        module = client.get("/widget/app.js")
        assert module.headers["access-control-allow-origin"] == "*"  # imported by Landkreis pages
        assert client.get("/widget/app.js", headers={"If-None-Match": module.headers["etag"]}).status_code == 304
        for path in ("/widget/..%2Fwidget.py", "/widget/gibtesnicht.js", "/widget/app.py"):
            assert client.get(path).status_code == 404, path
        bad = client.get("/chat/B%C3%B6se%3Cscript%3E")
        assert bad.status_code == 404 and "Diesen Chat gibt es nicht" in bad.text and "<script>" not in bad.text
