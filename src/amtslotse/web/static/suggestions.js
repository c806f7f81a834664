// "Meinten Sie vielleicht:" with the questions of curated answers that may be meant, when no
// answer was sure: one button each; a click asks that question, and asked word for word it gets
// its answer (ask/pipeline.py, Asker._curated).
//
//   turn.actions.append(suggestionList(widget, answer.suggestions));

import { h } from "./dom.js";

// The text lists them too ("Meinten Sie vielleicht:\n- ..."), for channels without buttons: the
// widget leaves that plain list out when it shows the buttons.
const SUGGESTIONS_BLOCK = /(^|\n)Meinten Sie vielleicht:[ \t]*\n(?:- [^\n]*(?:\n|$))+/;

export function withoutSuggestionsBlock(text, count) {
  return count ? text.replace(SUGGESTIONS_BLOCK, "$1").trim() : text;
}

export function suggestionList(widget, suggestions) {
  const items = suggestions.map((suggestion) => {
    const button = h("button", { type: "button", class: "al-suggestion", dir: "auto" }, suggestion.question);
    button.addEventListener("click", () => widget.send(suggestion.question));
    return h("li", {}, button);
  });
  return h("div", { class: "al-suggestions" },
    widget.tx(h("p", { class: "al-suggestions-title" }), "suggestions"), h("ul", {}, items));
}
