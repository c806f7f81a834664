// The chat widget: mounts the launcher and panel (embed) or the full-screen chat (page) into a
// Shadow DOM, so that the Landkreis page's CSS cannot break it and ours cannot leak out.
//
//   import { mount } from "./app.js";
//   await mount({ base: "https://amtslotse.example/", tenant: "musterkreis", mode: "embed" });
//
// widget.js (the one script tag) calls mount(). The conversation lives in memory only; the
// chosen language and "Einfache Sprache" are kept in sessionStorage. No cookies.

import { Api } from "./api.js";
import { h, icon, safeHttpUrl } from "./dom.js";
import { emergencyBox } from "./emergency.js";
import { feedbackControls } from "./feedback.js";
import { handoverOffer } from "./handover.js";
import { suggestionList, withoutSuggestionsBlock } from "./suggestions.js";
import { LANGUAGES, t } from "./i18n.js";
import { plainText, renderMarkdown } from "./markdown.js";
import { SourceDialog, sourceList, withoutSourcesBlock } from "./sources.js";
import { readableColors } from "./theme.js";

// The same media query as the corner window in chat.css; below it the panel is full screen.
const WINDOWED = window.matchMedia("(min-width: 40em) and (min-height: 36em)");

export async function mount(options) {
  const widget = new ChatWidget(options);
  await widget.start();
  return widget;
}

class ChatWidget {
  constructor({ base, tenant, mode, target }) {
    this.base = base;
    this.tenant = tenant;
    this.mode = mode;
    this.api = new Api(base, tenant);
    this.bound = []; // [element, key, attribute] of every UI text, re-set on a language switch
    const prefs = loadPrefs(tenant);
    this.lang = LANGUAGES[prefs.lang] ? prefs.lang : "de";
    this.simple = Boolean(prefs.simple);
    this.conversationId = newConversationId();
    this.busy = false;
    this.level = mode === "page" ? 1 : 2; // heading level of the chat title
    this.host = document.createElement("amtslotse-chat"); // a custom tag: host rules for div etc. miss it
    (target || document.body).append(this.host);
    this.root = this.host.attachShadow({ mode: "open" });
  }

  t(key) {
    return t(this.lang, key);
  }

  /** Sets a UI text now and again after each language switch. */
  tx(el, key, attribute = null) {
    this.bound.push([el, key, attribute]);
    if (attribute) el.setAttribute(attribute, this.t(key));
    else el.textContent = this.t(key);
    return el;
  }

  async start() {
    await this.loadStyles();
    try {
      this.config = await this.api.config();
    } catch (error) {
      this.config = null;
      this.configError = error; // e.g. 404: this Landkreis is not set up here
    }
    this.build();
  }

  loadStyles() {
    return new Promise((resolve) => {
      const link = h("link", { rel: "stylesheet", href: new URL("widget/chat.css", this.base).href });
      link.addEventListener("load", resolve);
      link.addEventListener("error", resolve); // unstyled beats invisible
      this.root.append(link);
    });
  }

  build() {
    const config = this.config;
    const languages = (config?.languages || ["de"]).filter((code) => LANGUAGES[code]);
    if (!languages.includes(this.lang)) this.lang = "de";
    const name = config?.name || "Jobcenter";
    this.container = h("div", { class: `al-root al-${this.mode}`, lang: this.lang, dir: LANGUAGES[this.lang].dir });
    for (const [property, value] of Object.entries(readableColors(config?.colors))) {
      this.container.style.setProperty(property, value); // CSSOM: allowed by a strict style-src
    }
    this.live = h("div", { class: "al-sr-only", "aria-live": "polite" });
    this.panel = h("section", { class: "al-panel", id: "al-panel", "aria-labelledby": "al-title" });
    this.panel.append(this.header(name));
    if (!config) {
      this.panel.append(h("p", { class: "al-error al-config-error", role: "alert" }, this.errorText(this.configError, "errorConfig")));
    } else {
      this.panel.append(this.settings(languages), this.messages(), this.composer());
    }
    this.panel.append(this.live);
    this.panel.addEventListener("keydown", (event) => this.onKeydown(event));
    if (this.mode === "page") {
      document.title = name;
      this.container.append(this.panel);
    } else {
      this.launcher = h("button", {
        type: "button", class: "al-launcher", "aria-expanded": "false", "aria-controls": "al-panel",
      }, icon("chat"), this.tx(h("span"), "launcher"));
      this.launcher.addEventListener("click", () => this.toggle());
      this.panel.hidden = true;
      const aside = h("aside", { class: "al-embed-frame" }, this.launcher, this.panel);
      aside.setAttribute("aria-label", `${this.t("chatLabel")}: ${name}`);
      this.asideName = name;
      this.container.append(aside);
    }
    this.dialog = config ? new SourceDialog(this) : null;
    this.root.append(this.container);
  }

  header(name) {
    const title = h(`h${this.level}`, { id: "al-title", class: "al-title" }, name);
    const logo = this.logo();
    const bar = h("header", { class: "al-bar" }, logo, h("div", { class: "al-titles" },
      title, this.tx(h("p", { class: "al-subtitle" }), "subtitle")));
    if (this.mode === "embed") {
      const close = h("button", { type: "button", class: "al-close" }, icon("close"));
      this.tx(close, "close", "aria-label");
      this.tx(close, "close", "title");
      close.addEventListener("click", () => this.toggle(false));
      bar.append(close);
    }
    return bar;
  }

  logo() {
    // Only a logo served by Amtslotse itself: the widget loads nothing from elsewhere.
    const url = this.config?.logo_url && safeHttpUrl(this.config.logo_url, this.base);
    if (!url || new URL(url).origin !== new URL(this.base).origin) return null;
    return h("img", { class: "al-logo", src: url, alt: "" }); // the name stands beside it
  }

  settings(languages) {
    const select = h("select", { id: "al-language" }, languages.map((code) =>
      h("option", { value: code, lang: code, selected: code === this.lang }, LANGUAGES[code].name)));
    select.addEventListener("change", () => this.setLanguage(select.value));
    const simple = h("input", { type: "checkbox", id: "al-simple", role: "switch", checked: this.simple });
    simple.addEventListener("change", () => {
      this.simple = simple.checked;
      savePrefs(this.tenant, { lang: this.lang, simple: this.simple });
    });
    return h("div", { class: "al-settings" },
      h("div", { class: "al-field-inline" }, this.tx(h("label", { for: "al-language" }), "language"), select),
      h("div", { class: "al-field-inline al-check" }, simple, this.tx(h("label", { for: "al-simple" }), "simple")));
  }

  messages() {
    const config = this.config;
    const sub = `h${this.level + 1}`;
    const links = [["privacy_url", "privacy"], ["accessibility_url", "accessibility"], ["imprint_url", "imprint"]]
      .map(([field, key]) => [safeHttpUrl(config[field] || ""), key])
      .filter(([url]) => url)
      .map(([url, key]) => h("li", {}, this.externalLink(url, key)));
    const intro = h("div", { class: "al-intro" },
      config.greeting ? h("p", { class: "al-greeting", dir: "auto" }, config.greeting) : null,
      // One short notice, once, before the first message (AI Act Art. 50; data protection).
      h("div", { class: "al-notices" },
        this.tx(h(sub, { class: "al-notices-title" }), "beforeYouWrite"),
        config.notices?.ai ? h("p", { class: "al-notice-ai", dir: "auto" }, config.notices.ai, " ", config.notices?.data || "") : null,
        links.length ? h("ul", { class: "al-links" }, links) : null));
    this.log = h("div", { class: "al-messages", role: "region", tabindex: "0" }, intro);
    this.tx(this.log, "history", "aria-label");
    return this.log;
  }

  externalLink(url, key) {
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" },
      this.tx(h("span"), key), " ", this.tx(h("span", { class: "al-sr-only" }), "newWindow"));
  }

  composer() {
    this.input = h("textarea", {
      id: "al-input", dir: "auto", rows: "2", maxlength: "4000", "aria-describedby": "al-hint al-form-error", autocomplete: "off",
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault(); // Enter sends, Shift+Enter makes a new line
        this.form.requestSubmit();
      }
    });
    this.formError = h("p", { class: "al-form-error", id: "al-form-error" });
    const send = h("button", { type: "submit", class: "al-send" }, icon("send"), this.tx(h("span"), "send"));
    this.form = h("form", { class: "al-composer", novalidate: true },
      this.tx(h("label", { for: "al-input", class: "al-input-label" }), "inputLabel"),
      this.tx(h("p", { id: "al-hint", class: "al-hint" }), "inputHint"),
      h("div", { class: "al-composer-row" }, this.input, send),
      this.formError);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(this.input.value);
    });
    return this.form;
  }

  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    this.container.classList.toggle("al-open", open);
    if (open) (this.input || this.panel.querySelector("button")).focus();
    else this.launcher.focus();
  }

  onKeydown(event) {
    if (this.mode !== "embed") return;
    if (event.key === "Tab" && !WINDOWED.matches) this.wrapFocus(event);
    if (event.key !== "Escape") return;
    if (this.root.querySelector("dialog[open]")) return; // Escape closes the source first
    event.preventDefault();
    this.toggle(false);
  }

  /** On a phone the panel covers the page: Tab stays inside it instead of reaching hidden links. */
  wrapFocus(event) {
    const focusable = [...this.panel.querySelectorAll("a[href], button, select, textarea, input, [tabindex='0']")]
      .filter((el) => !el.disabled && el.getClientRects().length);
    const [first, last] = [focusable[0], focusable[focusable.length - 1]];
    const active = this.root.activeElement;
    if (event.shiftKey && active === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  setLanguage(lang) {
    this.lang = LANGUAGES[lang] ? lang : "de";
    this.container.lang = this.lang;
    this.container.dir = LANGUAGES[this.lang].dir;
    for (const [el, key, attribute] of this.bound) {
      if (attribute) el.setAttribute(attribute, this.t(key));
      else el.textContent = this.t(key);
    }
    if (this.asideName) this.container.querySelector("aside").setAttribute("aria-label", `${this.t("chatLabel")}: ${this.asideName}`);
    savePrefs(this.tenant, { lang: this.lang, simple: this.simple });
  }

  announce(text) {
    // One message for the whole answer (not every streamed chunk). Emptied first, so that the
    // same text twice is still read.
    this.live.textContent = "";
    setTimeout(() => { this.live.textContent = text; }, 50);
  }

  showFormError(key) {
    this.formError.textContent = key ? this.t(key) : "";
    this.input.setAttribute("aria-invalid", key ? "true" : "false");
  }

  async send(raw) {
    const text = raw.trim();
    if (this.busy) return this.showFormError("busy");
    if (!text) {
      this.showFormError("emptyQuestion");
      this.input.focus();
      return;
    }
    this.showFormError(null);
    this.busy = true;
    this.form.setAttribute("aria-busy", "true");
    this.input.value = "";
    const mine = h("div", { class: "al-msg al-user" },
      this.tx(h("span", { class: "al-sr-only" }), "you"), " ", h("p", { class: "al-user-text", dir: "auto" }, text));
    const turn = new Turn(this, text, mine);
    this.log.append(mine, turn.el);
    this.scrollTo(mine); // the question on top, the answer grows below it (no jumping while it streams)
    this.announce(this.t("searching"));
    try {
      // The notice stands above the first message (messages()), so the answer need not repeat it.
      const message = { text, simple_language: this.simple, language: this.lang === "de" ? null : this.lang, notice_shown: true };
      const answer = await this.api.ask(this.conversationId, message, (name, data) => turn.on(name, data));
      turn.finish(answer);
    } catch (error) {
      turn.fail(error);
      // A conversation at its most questions (or no longer ours): the next question starts a new one.
      if (["conversation_full", "conversation_forbidden"].includes(error.code)) this.conversationId = newConversationId();
    } finally {
      this.busy = false;
      this.form.removeAttribute("aria-busy");
    }
  }

  /** Scrolls the conversation so that el starts at its top (.al-messages is the offsetParent). */
  scrollTo(el) {
    this.log.scrollTop = el.offsetTop - 8;
  }


  errorText(error, fallbackKey) {
    // Server messages are German: shown as they are in a German UI, otherwise our translation.
    return this.lang === "de" && error?.serverMessage ? error.serverMessage : this.t(fallbackKey);
  }
}

/** One answer of the assistant, from "Ich suche in den Quellen …" to the rendered text. */
class Turn {
  constructor(widget, question, questionEl) {
    this.widget = widget;
    this.question = question;
    this.questionEl = questionEl;
    this.status = h("p", { class: "al-status" }, h("span", { class: "al-spinner", "aria-hidden": "true" }),
      h("span", {}, widget.t("searching")));
    this.urgent = h("div", { class: "al-urgent-slot" });
    this.text = h("div", { class: "al-answer", dir: "auto" });
    this.sources = h("div", { class: "al-sources-slot" });
    this.actions = h("div", { class: "al-actions" });
    this.el = h("div", { class: "al-msg al-bot", "aria-busy": "true" },
      widget.tx(h("span", { class: "al-sr-only" }), "assistant"), this.urgent, this.status, this.text, this.sources,
      this.actions);
  }

  on(name, data) {
    const widget = this.widget;
    if (name === "status" && data?.text && widget.lang === "de") {
      this.status.lastChild.textContent = data.text;
    } else if (name === "sources") {
      this.sources.replaceChildren(sourceList(widget, data?.citations || [], null));
    } else if (name === "text" && typeof data?.delta === "string") {
      this.status.hidden = true;
      this.text.classList.add("al-streaming");
      this.text.append(document.createTextNode(data.delta)); // plain text until `done`
    }
  }

  finish(answer) {
    const widget = this.widget;
    const citations = answer.citations || [];
    this.status.remove();
    this.text.classList.remove("al-streaming");
    // Urgent: the emergency box leads with the advice and the contacts that fit; the text below
    // keeps only what follows them (the offer to hand over), so nothing is said twice.
    const urgentBox = answer.urgent && answer.urgent_advice;
    const suggestions = answer.suggestions || [];
    const text = urgentBox ? lastParagraph(answer.answer || "")
      : withoutSuggestionsBlock(withoutSourcesBlock(answer.answer || "", citations.length), suggestions.length);
    this.text.replaceChildren(renderMarkdown(text, { newWindow: widget.t("newWindow") }));
    this.sources.replaceChildren(citations.length ? sourceList(widget, citations, answer.stand) : "");
    if (answer.urgent) {
      const contacts = answer.emergency_contacts?.length ? answer.emergency_contacts : widget.config.emergency_contacts;
      this.urgent.append(emergencyBox(widget, contacts || [], urgentBox ? answer.urgent_advice : ""));
    }
    if (suggestions.length) this.actions.append(suggestionList(widget, suggestions));
    if (answer.handover) this.actions.append(handoverOffer(widget, answer, this.question));
    if (answer.message_id !== null && answer.message_id !== undefined) {
      this.actions.append(feedbackControls(widget, answer));
    }
    this.el.setAttribute("aria-busy", "false");
    this.el.dataset.messageId = answer.message_id ?? "";
    // Now that the answer has its height: question at the top, answer below it (the emergency
    // contacts at the top when urgent).
    widget.scrollTo(answer.urgent ? this.el : this.questionEl);
    widget.announce(`${widget.t("assistant")} ${plainText(text)}`);
  }

  fail(error) {
    this.status.remove();
    this.text.classList.remove("al-streaming");
    this.text.replaceChildren(h("p", { class: "al-error", role: "alert" }, this.widget.errorText(error, "errorAnswer")));
    this.el.setAttribute("aria-busy", "false");
  }
}

function newConversationId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // http pages outside localhost
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function loadPrefs(tenant) {
  try {
    return JSON.parse(sessionStorage.getItem(`amtslotse:${tenant}`)) || {};
  } catch {
    return {}; // storage blocked (privacy settings): defaults
  }
}

function savePrefs(tenant, prefs) {
  try {
    sessionStorage.setItem(`amtslotse:${tenant}`, JSON.stringify(prefs));
  } catch {
    // not stored: the choice holds for this page only
  }
}

function lastParagraph(text) {
  const parts = text.trim().split(/\n\s*\n/);
  return parts[parts.length - 1] || "";
}
