// Thumbs up/down per answer, with an optional comment.
//
//   turn.append(feedbackControls(widget, answer));
//
// A click on a thumb sends the rating at once (most people give no comment); the comment field
// then appears and sends the rating again with the comment (the server keeps the latest).

import { h, icon, uid } from "./dom.js";

export function feedbackControls(widget, answer) {
  const questionId = uid("helpful");
  const status = h("p", { class: "al-feedback-status", role: "status", tabindex: "-1" });
  const buttons = [["up", "yes"], ["down", "no"]].map(([rating, key]) => {
    const button = h("button", { type: "button", class: `al-thumb al-thumb-${rating}`, "aria-pressed": "false" },
      icon(rating), widget.tx(h("span"), key));
    button.dataset.rating = rating;
    return button;
  });
  const commentId = uid("comment");
  const comment = h("textarea", { id: commentId, rows: "2", maxlength: "1000" });
  const form = h("form", { class: "al-comment", hidden: true },
    widget.tx(h("label", { for: commentId }), "commentLabel"), comment,
    h("button", { type: "submit", class: "al-secondary" }, widget.tx(h("span"), "commentSend")));
  let rating = null;

  async function send(withComment) {
    try {
      await widget.api.feedback(widget.conversationId, answer.message_id, rating, withComment ? comment.value.trim() : null);
      return true;
    } catch (error) {
      status.textContent = widget.errorText(error, "errorSend");
      return false;
    }
  }

  for (const button of buttons) {
    button.addEventListener("click", async () => {
      rating = button.dataset.rating;
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      if (await send(false)) {
        status.textContent = widget.t("thanks");
        form.hidden = false;
      }
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!comment.value.trim()) {
      comment.focus();
      return;
    }
    if (await send(true)) {
      form.hidden = true; // its button had the focus: keep the focus on the confirmation
      status.textContent = widget.t("commentThanks");
      status.focus();
    }
  });
  return h("div", { class: "al-feedback", role: "group", "aria-labelledby": questionId },
    widget.tx(h("p", { id: questionId, class: "al-feedback-question" }), "helpful"),
    h("div", { class: "al-thumbs" }, buttons), status, form);
}
