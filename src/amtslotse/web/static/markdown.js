// A tiny, safe Markdown renderer for answers and source passages.
//
//   container.append(renderMarkdown("**Ja.** Siehe [Seite](https://example.org)\n\n- eins\n- zwei"));
//
// Supported: paragraphs, line breaks, **bold**, lists ("- ", "* ", "1. "), headings (shown as bold
// lines, so that an answer does not break the heading structure of the page), [links](https://...)
// and bare https:// URLs. Everything else stays literal text. Nodes are built with createElement
// and textContent only: HTML in an answer or passage is shown as text, never parsed, and links
// are made only for http(s) URLs (no javascript:, data:, ...).

import { h, safeHttpUrl } from "./dom.js";

const BULLET = /^\s*[-*•]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,3})[.)]\s+(.*)$/;
const HEADING = /^\s*#{1,6}\s+(.*)$/;

/** Markdown text -> DocumentFragment. options.newWindow: hidden text for links (e.g. "(öffnet in neuem Fenster)"). */
export function renderMarkdown(text, options = {}) {
  const fragment = document.createDocumentFragment();
  for (const block of blocks(String(text ?? ""))) {
    fragment.append(renderBlock(block, options));
  }
  return fragment;
}

/** Plain text of an answer (for the screen-reader announcement): the same text without markup. */
export function plainText(text) {
  const holder = document.createElement("div");
  holder.append(renderMarkdown(text));
  return Array.from(holder.children, (child) => child.textContent.trim()).filter(Boolean).join("\n");
}

function blocks(text) {
  const result = [];
  let current = null;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (!line.trim()) {
      current = null;
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = NUMBERED.exec(line);
    const heading = HEADING.exec(line);
    if (heading) {
      result.push({ kind: "heading", lines: [heading[1]] });
      current = null;
    } else if (bullet || numbered) {
      const kind = bullet ? "ul" : "ol";
      if (!current || current.kind !== kind) {
        current = { kind, items: [], start: numbered ? Number(numbered[1]) : 1 };
        result.push(current);
      }
      current.items.push([bullet ? bullet[1] : numbered[2]]);
    } else if (current && (current.kind === "ul" || current.kind === "ol") && /^\s{2,}\S/.test(line)) {
      current.items[current.items.length - 1].push(line.trim()); // an indented continuation line
    } else if (current && current.kind === "p") {
      current.lines.push(line);
    } else {
      current = { kind: "p", lines: [line] };
      result.push(current);
    }
  }
  return result;
}

function renderBlock(block, options) {
  if (block.kind === "heading") {
    return h("p", { class: "al-md-heading" }, h("strong", {}, inline(block.lines[0], options)));
  }
  if (block.kind === "p") {
    return h("p", {}, withBreaks(block.lines, options));
  }
  const attrs = block.kind === "ol" && block.start !== 1 ? { start: block.start } : {};
  return h(block.kind, attrs, block.items.map((lines) => h("li", {}, withBreaks(lines, options))));
}

function withBreaks(lines, options) {
  const nodes = [];
  lines.forEach((line, index) => {
    if (index > 0) nodes.push(document.createElement("br"));
    nodes.push(...inline(line.trim(), options));
  });
  return nodes;
}

// Inline: **bold**, [text](url), bare URLs. A left-to-right scan; unmatched markers stay text.
const INLINE = /\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?"'])/g;

function inline(text, options, allowBold = true) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(INLINE)) {
    const [whole, bold, label, href, bare] = match;
    if (bold !== undefined && !allowBold) continue;
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    if (bold !== undefined) {
      nodes.push(h("strong", {}, inline(bold, options, false)));
    } else if (label !== undefined) {
      nodes.push(link(label, href, options) ?? document.createTextNode(label));
    } else {
      nodes.push(link(bare, bare, options) ?? document.createTextNode(whole));
    }
    last = match.index + whole.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}

function link(label, href, options) {
  // Only absolute http(s) URLs: a relative one would point into the host page of the widget.
  if (!/^https?:\/\//i.test(href)) return null;
  const url = safeHttpUrl(href);
  if (!url) return null;
  const a = h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label);
  if (options.newWindow) a.append(h("span", { class: "al-sr-only" }, ` ${options.newWindow}`));
  return a;
}
