// The emergency contacts shown prominently when an answer is urgent (no money for food,
// eviction, energy cut-off, danger): a highlighted box that screen readers announce at once.
//
//   turn.append(emergencyBox(widget, [{ label: "Notfallschalter", phone: "0123 45678-99", hours: "Mo-Fr 8-12 Uhr" }]));

import { h, icon, telHref } from "./dom.js";

export function emergencyBox(widget, contacts, advice = "") {
  const items = contacts.map((contact) => {
    const href = telHref(contact.phone);
    return h("li", {},
      h("strong", { dir: "auto" }, contact.label || ""),
      href ? h("a", { href, class: "al-tel" }, icon("phone"), widget.tx(h("span"), "call"), " ",
        h("span", { dir: "ltr" }, contact.phone)) : null,
      contact.hours ? h("span", { class: "al-hours" }, contact.hours) : null,
      contact.text ? h("span", { class: "al-contact-text", dir: "auto" }, contact.text) : null);
  });
  return h("div", { class: "al-urgent", role: "alert" },
    advice ? h("p", { class: "al-urgent-advice", dir: "auto" }, advice) : null,
    widget.tx(h("p", { class: "al-urgent-title" }), "urgentTitle"),
    items.length ? h("ul", {}, items) : null);
}
