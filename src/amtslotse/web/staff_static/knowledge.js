// The tenant's knowledge for the editorial staff: documents (list, upload with validity dates,
// delete), what is due for review, curated answers (create, edit, delete), who changed what,
// a search test that shows what a citizen would get, and the citizens' open questions, each
// turned into a curated answer from a proposal the editor checks and saves.
//
//   /staff/knowledge

import { clearFieldError, dateTime, fieldError, h, startPage } from "./common.js";
import { germanDate, safeHttpUrl, uid } from "../../widget/dom.js";
import { renderMarkdown } from "../../widget/markdown.js";
import { withoutSourcesBlock } from "../../widget/sources.js";

const ACTIONS = {
  document_uploaded: "Dokument hochgeladen", document_deleted: "Dokument gelöscht",
  curated_created: "kuratierte Antwort angelegt", curated_updated: "kuratierte Antwort geändert",
  curated_deleted: "kuratierte Antwort gelöscht",
};
const KINDS = { page: "Text", law: "Gesetz", records: "Tabelle", curated: "kuratierte Antworten" };
const OUTCOMES = {
  answered: "beantwortet", handover: "Übergabe an Mitarbeitende", unsure: "unsicher: Übergabe angeboten",
  refused: "abgelehnt", injection: "abgelehnt", urgent: "Notlage erkannt",
};

const page = await startPage("knowledge");
if (page) show(page);

function show(page) {
  const sections = {
    search: searchSection(page),
    gaps: h("section", { class: "card", "aria-labelledby": "gaps-title" }),
    due: h("section", { class: "card", "aria-labelledby": "due-title" }),
    documents: h("section", { class: "card", "aria-labelledby": "documents-title" }),
    curated: h("section", { class: "card", "aria-labelledby": "curated-title" }),
    audit: h("section", { class: "card", "aria-labelledby": "changes-title" }),
  };
  const state = { page, sections, reload: () => reload(state) };
  page.main.append(sections.search, sections.gaps, sections.due, sections.documents, uploadSection(state), sections.curated,
    curatedForm(state), sections.audit);
  return reload(state);
}

async function reload(state) {
  const { page, sections } = state;
  try {
    const [knowledge, curated, audit, gaps] = await Promise.all([
      page.api("api/v1/staff/knowledge"), page.api("api/v1/staff/curated"), page.api("api/v1/staff/knowledge/audit"),
      page.api("api/v1/staff/gaps"),
    ]);
    sections.gaps.replaceChildren(...gapParts(state, gaps));
    sections.due.replaceChildren(...dueParts(knowledge));
    sections.documents.replaceChildren(...documentParts(state, knowledge.documents));
    sections.curated.replaceChildren(...curatedParts(state, curated.items));
    sections.audit.replaceChildren(...auditParts(audit.entries));
    state.curated = curated.items;
  } catch (error) {
    page.fail(error.message);
  }
}

function dueParts(knowledge) {
  const due = knowledge.review_due;
  return [
    h("h2", { id: "due-title" }, "Prüfung fällig"),
    h("p", { class: "hint" }, `Inhalte, die vor mehr als ${knowledge.review_after_days} Tagen eingelesen wurden, sollten geprüft werden.`),
    due.length
      ? h("ul", {}, due.map((d) => h("li", {}, h("strong", {}, d.title || d.source), ` (${d.source}), eingelesen am ${dateTime(d.ingested_at)}`)))
      : h("p", {}, "Zurzeit ist keine Prüfung fällig."),
    ...(knowledge.curated_review_due || []).length
      ? [
          h("h3", {}, "Geprüfte Antworten: Gesetz geändert"),
          h("ul", {}, knowledge.curated_review_due.map((d) => h("li", {},
            h("strong", {}, d.question), ` zitiert ${d.citation}; der Paragraf ändert sich ab ${germanDate(d.changed_on)}. Prüfung fällig.`))),
        ]
      : [],
  ];
}

function documentParts(state, documents) {
  const rows = documents.map((d) => {
    const remove = h("button", { type: "button", class: "secondary", "aria-label": `„${d.title || d.source}“ löschen` }, "Löschen");
    remove.addEventListener("click", () => removeDocument(state, d, remove));
    return h("tr", { "data-source": d.source },
      h("th", { scope: "row" }, d.title || d.source, h("span", { class: "cell-line muted" }, d.source)),
      h("td", {}, d.curated ? KINDS.curated : KINDS[d.kind] || d.kind),
      h("td", {}, d.valid_from ? germanDate(d.valid_from) : "–", " bis ", d.valid_to ? germanDate(d.valid_to) : "offen"),
      h("td", {}, String(d.passages)),
      h("td", {}, dateTime(d.ingested_at), d.review_due ? h("span", { class: "cell-line due" }, "Prüfung fällig")
        : d.review_due_at ? h("span", { class: "cell-line muted" }, `prüfen bis ${germanDate(d.review_due_at)}`) : null),
      h("td", {}, d.changed_by ? [d.changed_by, h("span", { class: "cell-line muted" }, dateTime(d.changed_at))] : "–"),
      h("td", {}, d.curated ? h("span", { class: "muted" }, "unten bearbeiten") : remove));
  });
  return [
    h("h2", { id: "documents-title" }, "Dokumente"),
    documents.length
      ? h("div", { class: "table-wrap" }, h("table", {},
        h("caption", {}, `${documents.length} ${documents.length === 1 ? "Dokument" : "Dokumente"} dieses Jobcenters`),
        h("thead", {}, h("tr", {}, ["Titel", "Art", "Gültig", "Abschnitte", "Eingelesen", "Zuletzt geändert von", "Aktion"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)))
      : h("p", {}, "Noch keine eigenen Dokumente."),
  ];
}

async function removeDocument(state, d, button) {
  // eslint-disable-next-line no-alert -- a native, keyboard- and screen-reader-friendly confirmation
  if (!window.confirm(`„${d.title || d.source}“ wirklich löschen? Der Chat nutzt es danach nicht mehr.`)) return;
  button.disabled = true;
  try {
    await state.page.api(`api/v1/staff/knowledge/${encodeURIComponent(d.source)}`, { method: "DELETE" });
    await state.reload();
    state.page.announce(`„${d.title || d.source}“ wurde gelöscht.`);
    document.getElementById("documents-title").setAttribute("tabindex", "-1");
    document.getElementById("documents-title").focus();
  } catch (error) {
    button.disabled = false;
    state.page.fail(error.message);
  }
}

function uploadSection(state) {
  const ids = { file: uid("file"), from: uid("from"), to: uid("to"), hint: uid("hint") };
  const file = h("input", { id: ids.file, name: "file", type: "file", multiple: true, required: true, "aria-describedby": ids.hint,
    accept: ".pdf,.docx,.html,.htm,.md,.txt,.jsonl" });
  const from = h("input", { id: ids.from, name: "valid_from", type: "date" });
  const to = h("input", { id: ids.to, name: "valid_to", type: "date" });
  const submit = h("button", { type: "submit", class: "primary" }, "Hochladen");
  const form = h("form", { class: "card", "aria-labelledby": "upload-title", novalidate: true },
    h("h2", { id: "upload-title" }, "Dokument hochladen"),
    h("div", { class: "field" }, h("label", { for: ids.file }, "Dateien"),
      h("p", { id: ids.hint, class: "hint" }, "PDF, Word (DOCX), HTML, Markdown, Text oder kuratierte Antworten (JSONL). Eine Datei mit demselben Namen ersetzt die alte Fassung."),
      file),
    h("div", { class: "grid-2" },
      h("div", { class: "field" }, h("label", { for: ids.from }, "Gültig ab (freiwillig)"), from),
      h("div", { class: "field" }, h("label", { for: ids.to }, "Gültig bis (freiwillig)"), to)),
    submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) {
      fieldError(file, "Bitte mindestens eine Datei wählen.");
      return;
    }
    clearFieldError(file);
    const body = new FormData();
    for (const f of file.files) body.append("file", f);
    body.append("valid_from", from.value);
    body.append("valid_to", to.value);
    submit.disabled = true;
    try {
      const result = await state.page.api("api/v1/staff/knowledge", { method: "POST", form: body });
      form.reset();
      await state.reload();
      const problems = result.errors.map((e) => ` ${e.file}: ${e.error}`).join(";");
      state.page.announce(`${result.ingested} ${result.ingested === 1 ? "Dokument" : "Dokumente"} eingelesen, ` +
        `${result.unchanged} unverändert, ${result.passages} Abschnitte.${problems ? ` Nicht eingelesen:${problems}.` : ""}`);
    } catch (error) {
      state.page.fail(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function curatedParts(state, items) {
  return [
    h("h2", { id: "curated-title" }, "Kuratierte Antworten"),
    items.length ? h("ul", { class: "curated-list" }, items.map((item) => {
      const edit = h("button", { type: "button", class: "secondary", "aria-label": `„${item.question}“ bearbeiten` }, "Bearbeiten");
      const remove = h("button", { type: "button", class: "secondary", "aria-label": `„${item.question}“ löschen` }, "Löschen");
      edit.addEventListener("click", () => state.edit(item));
      remove.addEventListener("click", () => removeCurated(state, item, remove));
      return h("li", { "data-id": item.id },
        h("details", {}, h("summary", {}, item.question, item.topic ? h("span", { class: "muted" }, ` – ${item.topic}`) : null),
          h("p", { class: "answer-text" }, item.answer),
          item.valid_from || item.valid_to
            ? h("p", { class: "muted" }, `Gültig ${item.valid_from ? `ab ${germanDate(item.valid_from)}` : ""} ${item.valid_to ? `bis ${germanDate(item.valid_to)}` : ""}`)
            : null),
        h("div", { class: "row-buttons" }, edit, remove));
    })) : h("p", {}, "Noch keine kuratierten Antworten."),
  ];
}

async function removeCurated(state, item, button) {
  // eslint-disable-next-line no-alert -- a native, accessible confirmation
  if (!window.confirm(`Die Antwort auf „${item.question}“ wirklich löschen?`)) return;
  button.disabled = true;
  try {
    await state.page.api(`api/v1/staff/curated/${encodeURIComponent(item.id)}`, { method: "DELETE" });
    await state.reload();
    state.page.announce("Die kuratierte Antwort wurde gelöscht.");
  } catch (error) {
    button.disabled = false;
    state.page.fail(error.message);
  }
}

/** The form for a new or changed curated answer; sources one per line: "Bezeichnung | https://…". */
function curatedForm(state) {
  const field = (label, control, hint) => {
    const id = uid("c");
    control.id = id;
    const hintId = hint ? uid("h") : null;
    if (hintId) control.setAttribute("aria-describedby", hintId);
    return h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { id: hintId, class: "hint" }, hint) : null, control);
  };
  const c = {
    question: h("input", { type: "text", maxlength: "500", required: true }),
    alternatives: h("textarea", { rows: "3" }),
    answer: h("textarea", { rows: "6", maxlength: "8000", required: true }),
    simple: h("textarea", { rows: "4", maxlength: "8000" }),
    topic: h("input", { type: "text", maxlength: "100" }),
    sources: h("textarea", { rows: "3" }),
    from: h("input", { type: "date" }),
    to: h("input", { type: "date" }),
  };
  const title = h("h2", { id: "curated-form-title", tabindex: "-1" }, "Neue kuratierte Antwort");
  const submit = h("button", { type: "submit", class: "primary" }, "Antwort speichern");
  const cancel = h("button", { type: "button", class: "secondary", hidden: true }, "Bearbeiten abbrechen");
  const note = h("div", { class: "proposal-note", hidden: true }); // where a proposal came from (state.edit's `about`)
  let known = new Map(); // citation -> the source as stored (file, section): the text field shows label and link only
  const form = h("form", { class: "card", "aria-labelledby": "curated-form-title", novalidate: true }, title, note,
    field("Frage", c.question),
    field("Andere Formulierungen", c.alternatives, "Eine je Zeile: so fragen Bürgerinnen und Bürger auch."),
    field("Antwort", c.answer, "Einfacher Text; **fett** und Listen mit „- “ sind möglich."),
    field("Antwort in Einfacher Sprache (freiwillig)", c.simple),
    h("div", { class: "grid-2" }, field("Thema (freiwillig)", c.topic), field("Quellen", c.sources, "Eine je Zeile: Bezeichnung | Link (https://…)")),
    h("div", { class: "grid-2" }, field("Gültig ab (freiwillig)", c.from), field("Gültig bis (freiwillig)", c.to)),
    h("div", { class: "buttons" }, submit, cancel));
  let editing = null;
  const reset = () => {
    editing = null;
    form.reset();
    for (const control of Object.values(c)) clearFieldError(control);
    title.textContent = "Neue kuratierte Antwort";
    cancel.hidden = true;
    note.hidden = true;
    note.replaceChildren();
    known = new Map();
  };
  // An item without id (a proposal) is saved as a new answer; `about` explains where it came from.
  state.edit = (item, about = null) => {
    editing = item.id || null;
    title.textContent = editing ? `Kuratierte Antwort bearbeiten: ${item.question}` : "Neue kuratierte Antwort aus einer offenen Frage";
    note.replaceChildren(...(about ? [about] : []));
    note.hidden = !about;
    known = new Map((item.sources || []).map((s) => [s.citation, s]));
    c.question.value = item.question;
    c.alternatives.value = (item.alternatives || []).join("\n");
    c.answer.value = item.answer;
    c.simple.value = item.answer_simple || "";
    c.topic.value = item.topic || "";
    c.sources.value = (item.sources || []).map((s) => (s.url ? `${s.citation} | ${s.url}` : s.citation)).join("\n");
    c.from.value = item.valid_from || "";
    c.to.value = item.valid_to || "";
    cancel.hidden = false;
    title.focus();
  };
  cancel.addEventListener("click", () => {
    reset();
    state.page.announce("Bearbeiten abgebrochen.");
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const control of [c.answer, c.question, c.sources]) clearFieldError(control);
    const missing = [c.answer, c.question].filter((control) => !control.value.trim());
    for (const control of missing) fieldError(control, control === c.question ? "Bitte die Frage eingeben." : "Bitte die Antwort eingeben.");
    if (missing.length) return; // the focus is on the first empty one (the question before the answer)
    const sources = [];
    for (const line of c.sources.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const [citation, link] = line.split("|").map((part) => part.trim());
      if (link && !safeHttpUrl(link)) {
        fieldError(c.sources, `Der Link „${link}“ ist keine Internetadresse (https://…).`);
        return;
      }
      const details = { ...known.get(citation) }; // its file and section; the link as now written
      delete details.url;
      sources.push({ ...details, citation, ...(link ? { url: link } : {}) });
    }
    const body = {
      question: c.question.value.trim(), answer: c.answer.value.trim(),
      alternatives: c.alternatives.value.split("\n").map((l) => l.trim()).filter(Boolean),
      answer_simple: c.simple.value.trim() || null, topic: c.topic.value.trim() || null, sources,
      valid_from: c.from.value || null, valid_to: c.to.value || null,
    };
    submit.disabled = true;
    try {
      const path = editing ? `api/v1/staff/curated/${encodeURIComponent(editing)}` : "api/v1/staff/curated";
      await state.page.api(path, { method: editing ? "PUT" : "POST", body });
      const done = editing ? "Die kuratierte Antwort wurde geändert." : "Die kuratierte Antwort wurde angelegt.";
      reset();
      await state.reload();
      state.page.announce(`${done} Der Chat nutzt sie ab sofort.`);
    } catch (error) {
      state.page.fail(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// --- open questions: from gap to answer ---------------------------------------------------------

function gapParts(state, gaps) {
  const rows = gaps.items.map((gap) => {
    const propose = h("button", { type: "button", class: "secondary", "aria-label": `Antwort vorschlagen: „${gap.question}“` },
      "Antwort vorschlagen");
    propose.addEventListener("click", () => proposeAnswer(state, gap, propose));
    const mix = [gap.outcomes.unsure ? `ohne sichere Antwort: ${gap.outcomes.unsure}` : null,
      gap.outcomes.down ? `„Daumen runter“: ${gap.outcomes.down}` : null].filter(Boolean);
    return h("tr", {},
      h("th", { scope: "row" }, gap.question),
      h("td", {}, String(gap.count)),
      h("td", {}, dateTime(gap.last_asked)),
      h("td", {}, mix.map((line) => h("span", { class: "cell-line" }, line))),
      h("td", {}, propose));
  });
  return [
    h("h2", { id: "gaps-title" }, "Offene Fragen der Bürgerinnen und Bürger"),
    h("p", { class: "hint" }, `Fragen der letzten ${gaps.days} Tage, auf die der Chat keine sichere Antwort hatte oder deren Antwort `
      + "mit „Daumen runter“ bewertet wurde, häufigste zuerst (ohne persönliche Daten). „Antwort vorschlagen“ füllt das Formular "
      + "für eine neue kuratierte Antwort; der Chat nutzt sie erst, wenn Sie sie geprüft und gespeichert haben."),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "gaps" },
        h("caption", {}, `${rows.length} offene ${rows.length === 1 ? "Frage" : "Fragen"}`),
        h("thead", {}, h("tr", {}, ["Frage", "Anzahl", "Zuletzt gefragt", "Ergebnis", "Aktion"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)))
      : h("p", {}, "Zurzeit gibt es keine offenen Fragen."),
  ];
}

async function proposeAnswer(state, gap, button) {
  button.disabled = true;
  state.page.announce("Der Vorschlag wird erstellt …");
  try {
    const proposal = await state.page.api("api/v1/staff/gaps/proposal", { method: "POST", body: { question: gap.question } });
    state.edit(proposal, proposalNote(gap, proposal));
    state.page.announce(proposal.answer
      ? "Vorschlag eingefügt. Bitte Antwort und Quellen prüfen, anpassen und dann speichern."
      : "Keine passende Quelle gefunden. Bitte die Antwort selbst schreiben und die Quellen angeben.");
  } catch (error) {
    state.page.fail(error.message);
  } finally {
    button.disabled = false;
  }
}

/** Where the proposed text comes from, the sources to check (with their wording), similar answers. */
function proposalNote(gap, proposal) {
  const origin = {
    generative: "Der Text ist ein Vorschlag des Sprachmodells aus den unten genannten Quellen.",
    extractive: "Der Text besteht aus Sätzen der am besten passenden Quelle.",
    none: "Für diese Frage hat keine Quelle einen passenden Satz.",
  }[proposal.way] || "";
  const texts = new Map((proposal.source_texts || []).map((s) => [s.citation, s.text]));
  return h("div", {},
    h("p", {}, `Offene Frage („${gap.question}“, ${gap.count === 1 ? "einmal" : `${gap.count}-mal`} gestellt). ${origin} `
      + "Prüfen Sie jede Aussage an den Quellen; die Formulierung der Bürgerin oder des Bürgers steht bei „Andere Formulierungen“."),
    proposal.sources.length ? h("div", {}, h("h3", {}, "Quellen des Vorschlags"), h("ul", {}, proposal.sources.map((s) => {
      const href = safeHttpUrl(s.url);
      return h("li", {},
        href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, s.citation, h("span", { class: "visually-hidden" }, " (öffnet in neuem Fenster)"))
          : s.citation,
        s.source ? h("span", { class: "muted" }, ` – ${s.source}`) : null,
        texts.get(s.citation) ? h("details", {}, h("summary", {}, "Wortlaut der Quelle"), h("p", { class: "answer-text" }, texts.get(s.citation))) : null);
    }))) : null,
    proposal.related?.length ? h("p", { class: "hint" }, "Ähnliche geprüfte Antworten gibt es schon: "
      + proposal.related.map((r) => `„${r.question}“ (Treffsicherheit ${Math.round(r.probability * 100)} %)`).join(", ")
      + ". Passt eine davon, ergänzen Sie dort besser die Formulierung der Bürgerin oder des Bürgers.") : null);
}

function searchSection(page) {
  const id = uid("q");
  const question = h("input", { id, type: "search", maxlength: "2000", required: true });
  const result = h("div", { class: "search-result" }); // its completion is announced by the page
  const submit = h("button", { type: "submit", class: "primary" }, "Testen");
  const form = h("form", { role: "search", "aria-label": "Suchtest", novalidate: true },
    h("div", { class: "field" }, h("label", { for: id }, "Frage, wie eine Bürgerin oder ein Bürger sie stellt"), question),
    submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!question.value.trim()) {
      fieldError(question, "Bitte eine Frage eingeben.");
      return;
    }
    clearFieldError(question);
    submit.disabled = true;
    result.replaceChildren(h("p", { class: "hint" }, "Sucht in den Quellen …"));
    try {
      const answer = await page.api("api/v1/staff/search-test", { query: { q: question.value.trim() } });
      result.replaceChildren(
        h("h3", {}, `Ergebnis: ${OUTCOMES[answer.outcome] || answer.outcome}`),
        h("div", { class: "answer-box" }, renderMarkdown(withoutSourcesBlock(answer.answer || "", answer.citations?.length))),
        answer.citations?.length ? h("div", {}, h("h3", {}, "Quellen"), h("ol", { class: "sources" }, answer.citations.map((c) => {
          const href = safeHttpUrl(c.url);
          return h("li", {}, href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, c.citation || c.title,
            h("span", { class: "visually-hidden" }, " (öffnet in neuem Fenster)")) : (c.citation || c.title));
        }))) : h("p", { class: "hint" }, "Ohne Quellen."),
        whyParts(answer));
      page.announce("Suchtest fertig.");
    } catch (error) {
      result.replaceChildren();
      page.fail(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "search-title" },
    h("h2", { id: "search-title" }, "Suchtest: Was bekäme eine Bürgerin oder ein Bürger?"), form, result);
}

// Why the winner won: the best-fitting curated answers with the probability that they are right
// (shown from the calibrated threshold on), then the ranked sources. A miss is fixed by adding the
// citizen's wording as a phrasing of the right curated answer.
function whyParts(answer) {
  const percent = (p) => `${Math.round(p * 100)} %`;
  const curated = answer.curated_candidates || [];
  const sources = answer.candidates || [];
  return h("details", { class: "why" },
    h("summary", {}, "Warum diese Antwort?"),
    answer.chosen ? h("p", {}, answer.chosen.way === "curated"
      ? `Gewählt: geprüfte Antwort „${answer.chosen.curated_id}“ über die Formulierung „${answer.chosen.phrasing}“ (Treffsicherheit ${percent(answer.confidence)}).`
      : `Gewählt: Auszug aus ${answer.chosen.citation} (Treffsicherheit ${percent(answer.confidence)}).`) : null,
    h("h4", {}, "Passende geprüfte Antworten"),
    curated.length ? h("ol", {}, curated.map((c) => h("li", {}, `${c.question} – über „${c.phrasing}“, Treffsicherheit ${percent(c.probability)}`)))
      : h("p", { class: "hint" }, "Keine."),
    h("h4", {}, "Gefundene Quellen, beste zuerst"),
    sources.length ? h("ol", {}, sources.map((c) => h("li", {}, `${c.citation} (${c.kind}, ${c.score})`))) : h("p", { class: "hint" }, "Keine."),
    h("p", { class: "hint" }, "Fehlt die richtige Antwort, fügen Sie die Frage bei der passenden geprüften Antwort als weitere Formulierung hinzu."));
}

function auditParts(entries) {
  return [
    h("h2", { id: "changes-title" }, "Wer hat was geändert"),
    entries.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Zeitpunkt", "Wer", "Was", "Betrifft"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, entries.map((e) => h("tr", { "data-action": e.action },
        h("td", {}, dateTime(e.at)), h("td", {}, e.actor), h("td", {}, ACTIONS[e.action] || e.action), h("td", {}, e.object_id)))))
      : h("p", {}, "Noch keine Änderungen."),
  ];
}
