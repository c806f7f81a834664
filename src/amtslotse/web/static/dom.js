// Building DOM nodes without innerHTML: every text goes in through textContent.
//
//   h("p", { class: "note" }, "Hallo ", h("strong", {}, "Welt"))
//
// Attributes are set with setAttribute (never "on*" handlers: listen with el.addEventListener).

const SVG = "http://www.w3.org/2000/svg";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error("h(): Ereignisse bitte mit addEventListener");
    el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let counter = 0;
/** A fresh id inside the widget's shadow root (for label/for and aria-* references). */
export function uid(prefix) {
  counter += 1;
  return `al-${prefix}-${counter}`;
}

// Icons: 24x24 paths, drawn in currentColor and hidden from screen readers (the buttons carry text).
const ICONS = {
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
  close: "M6 6l12 12M18 6L6 18",
  send: "M3 20l18-8L3 4v6l12 2-12 2z",
  up: "M7 10v10H3V10h4zm2 10h8.5a2 2 0 0 0 2-1.6l1.4-6.4A2 2 0 0 0 19 9.5h-5.5l.8-4A1.8 1.8 0 0 0 11 4.8L9 10v10z",
  down: "M7 14V4H3v10h4zm2-10h8.5a2 2 0 0 1 2 1.6l1.4 6.4a2 2 0 0 1-1.9 2.5h-5.5l.8 4a1.8 1.8 0 0 1-3.3.7L9 14V4z",
  source: "M6 2h9l5 5v15H6zM14 2v6h6M9 13h8M9 17h8",
  phone: "M6.6 10.8a15 15 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.6 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.6 3.6a1 1 0 0 1-.25 1z",
};
const STROKED = new Set(["close", "source"]);

export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "al-icon");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  if (STROKED.has(name)) {
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
  } else {
    path.setAttribute("fill", "currentColor");
  }
  svg.append(path);
  return svg;
}

/** "2026-07-01" -> "01.07.2026" (German date as on a Bescheid); anything else unchanged. */
export function germanDate(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
  return match ? `${match[3]}.${match[2]}.${match[1]}` : iso || "";
}

/** An absolute http(s) URL, or null: links from answers, passages and the config. */
export function safeHttpUrl(value, base) {
  try {
    const url = new URL(String(value), base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** tel: link for a phone number as written ("0123 45678-99" -> "tel:01234567899"). */
export function telHref(phone) {
  const digits = String(phone || "").replace(/[^0-9+]/g, "");
  return digits.length >= 3 ? `tel:${digits}` : null;
}
