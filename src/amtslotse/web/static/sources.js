// Sources of an answer as openable citations: one button each, opening a dialog with the
// passage text (GET /api/v1/passages/{id}?tenant=), its "Stand" date and a link.
//
//   turn.append(sourceList(widget, answer.citations, answer.stand));
//
// Curated answers cite with passage_id null: the dialog then shows citation, title and link.

import { germanDate, h, icon, safeHttpUrl } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

// The answer ends its text with "Quellen:\n[1] ...": the buttons show the same list, so the
// plain one is left out when the citations are there (the text is otherwise rendered as it is).
const SOURCES_BLOCK = /(^|\n)Quellen:[ \t]*\n(?:\[\d+\][^\n]*(?:\n|$))+/;

export function withoutSourcesBlock(text, citationCount) {
  return citationCount ? text.replace(SOURCES_BLOCK, "$1").trim() : text;
}

export function sourceList(widget, citations, stand) {
  if (!citations.length) return document.createDocumentFragment();
  const items = citations.map((citation, index) => {
    const button = h("button", { type: "button", class: "al-source", "aria-haspopup": "dialog" },
      icon("source"), `[${index + 1}] ${citation.citation || citation.title || ""}`);
    button.addEventListener("click", () => widget.dialog.open(citation, stand, button));
    return h("li", {}, button);
  });
  return h("div", { class: "al-sources" },
    widget.tx(h("p", { class: "al-sources-title" }), "sources"), h("ol", {}, items));
}

export class SourceDialog {
  constructor(widget) {
    this.widget = widget;
    this.request = 0;
    this.title = h(`h${widget.level + 1}`, { id: "al-source-title", class: "al-dialog-title" });
    const close = h("button", { type: "button", class: "al-dialog-close" }, icon("close"),
      widget.tx(h("span"), "dialogClose"));
    close.addEventListener("click", () => this.el.close());
    this.body = h("div", { class: "al-dialog-body" });
    this.el = h("dialog", { class: "al-dialog", "aria-labelledby": "al-source-title" },
      h("div", { class: "al-dialog-head" }, this.title, close), this.body);
    this.el.addEventListener("close", () => {
      // Browsers put the focus back on the opener themselves; do it only where one did not
      // (and never pull the focus back once the user has moved on).
      if (!widget.root.activeElement && this.opener?.isConnected) this.opener.focus();
    });
    this.el.addEventListener("click", (event) => {
      if (event.target === this.el) this.el.close(); // a click on the backdrop
    });
    widget.container.append(this.el);
  }

  async open(citation, stand, opener) {
    const widget = this.widget;
    const request = ++this.request;
    this.opener = opener;
    this.title.textContent = citation.citation || citation.title || widget.t("sources");
    const passage = h("div", { class: "al-passage", dir: "auto" });
    const meta = h("p", { class: "al-meta" });
    const link = h("p", { class: "al-source-link" });
    this.body.replaceChildren(
      citation.title && citation.title !== citation.citation ? h("p", { class: "al-source-name" }, citation.title) : "",
      meta, passage, link);
    this.fill(meta, link, citation, stand);
    if (citation.passage_id === null || citation.passage_id === undefined) {
      passage.append(h("p", {}, widget.t("sourceCurated")));
    } else {
      passage.append(h("p", { class: "al-loading" }, widget.t("sourceLoading")));
    }
    if (!this.el.open) this.el.showModal();
    if (citation.passage_id === null || citation.passage_id === undefined) return;
    try {
      const found = await widget.api.passage(citation.passage_id);
      if (request !== this.request) return; // another source was opened meanwhile
      passage.replaceChildren(renderMarkdown(found.text || "", { newWindow: widget.t("newWindow") }));
      this.fill(meta, link, { ...citation, url: found.url || citation.url, valid_from: found.valid_from || citation.valid_from }, stand);
    } catch (error) {
      if (request !== this.request) return;
      passage.replaceChildren(h("p", { class: "al-error" }, widget.t("sourceFailed")));
    }
  }

  fill(meta, link, citation, stand) {
    const widget = this.widget;
    const parts = [];
    if (stand) parts.push(`${widget.t("stand")}: ${germanDate(stand)}`);
    if (citation.valid_from) parts.push(`${widget.t("validFrom")}: ${germanDate(citation.valid_from)}`);
    meta.textContent = parts.join(" · ");
    meta.hidden = !parts.length;
    const url = safeHttpUrl(citation.url || "");
    link.replaceChildren(url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" },
      widget.t("toSource"), h("span", { class: "al-sr-only" }, ` ${widget.t("newWindow")}`)) : "");
    link.hidden = !url;
  }
}
