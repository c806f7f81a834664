// "An Mitarbeitende weitergeben": the citizen sees the proposed summary, may edit it, may add a
// way to be contacted, and agrees; then gets a reference number and what happens next.
//
//   turn.append(handoverOffer(widget, answer, "Wo ist mein Geld?"));
//
// Nothing is sent without the ticked consent box (the server checks it too).

import { h, uid } from "./dom.js";

export function handoverOffer(widget, answer, question) {
  const formId = uid("handover");
  const open = h("button", { type: "button", class: "al-primary", "aria-expanded": "false", "aria-controls": formId },
    widget.tx(h("span"), "handoverButton"));
  const ids = { summary: uid("summary"), hint: uid("hint"), contact: uid("contact"), consent: uid("consent"), error: uid("error") };
  const summary = h("textarea", {
    id: ids.summary, dir: "auto", rows: "5", maxlength: "4000", "aria-describedby": ids.hint, required: true,
  });
  summary.value = answer.handover_summary || question; // the citizen's own words if no summary came
  const contact = h("input", { id: ids.contact, type: "text", maxlength: "200", autocomplete: "off" });
  const consent = h("input", { id: ids.consent, type: "checkbox", required: true });
  const error = h("p", { id: ids.error, class: "al-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "al-primary" }, widget.tx(h("span"), "handoverSend"));
  const cancel = h("button", { type: "button", class: "al-secondary" }, widget.tx(h("span"), "handoverCancel"));
  const form = h("form", { id: formId, class: "al-handover-form", hidden: true, novalidate: true },
    widget.tx(h("p", { class: "al-form-title" }), "handoverTitle"),
    h("div", { class: "al-field" },
      widget.tx(h("label", { for: ids.summary }), "handoverSummary"),
      widget.tx(h("p", { id: ids.hint, class: "al-hint" }), "handoverHint"),
      summary),
    h("div", { class: "al-field" }, widget.tx(h("label", { for: ids.contact }), "handoverContact"), contact),
    h("div", { class: "al-field al-check" }, consent, widget.tx(h("label", { for: ids.consent }), "handoverConsent")),
    error,
    h("div", { class: "al-buttons" }, submit, cancel));
  const box = h("div", { class: "al-handover" }, open, form);

  function show(visible) {
    form.hidden = !visible;
    open.hidden = visible;
    open.setAttribute("aria-expanded", String(visible));
    (visible ? summary : open).focus();
  }
  function invalid(field, key) {
    error.textContent = widget.t(key);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", field === summary ? `${ids.hint} ${ids.error}` : ids.error);
    field.focus();
  }

  open.addEventListener("click", () => show(true));
  cancel.addEventListener("click", () => show(false));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    for (const field of [summary, consent]) field.removeAttribute("aria-invalid");
    if (!summary.value.trim()) return invalid(summary, "handoverNeedSummary");
    if (!consent.checked) return invalid(consent, "handoverNeedConsent");
    submit.disabled = true;
    try {
      const payload = { conversation_id: widget.conversationId, summary: summary.value.trim(), consent: true };
      if (contact.value.trim()) payload.contact = contact.value.trim();
      const result = await widget.api.handover(payload);
      box.replaceChildren(confirmation(widget, result));
      box.firstChild.focus();
    } catch (failure) {
      error.textContent = widget.errorText(failure, "errorSend");
      submit.disabled = false;
      submit.focus();
    }
  });
  return box;
}

function confirmation(widget, result) {
  return h("div", { class: "al-confirm", tabindex: "-1" },
    h("p", {}, h("strong", {}, widget.t("handoverDone"))),
    h("p", {}, `${widget.t("handoverReference")} `, h("strong", { class: "al-reference", dir: "ltr" }, result.reference || "")),
    result.next_steps ? h("p", {}, h("span", { class: "al-next-title" }, `${widget.t("handoverNext")} `),
      h("span", { dir: "auto" }, result.next_steps)) : null);
}
