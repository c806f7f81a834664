// One message: its text with personal data marked, the extracted fields, the attachments, the
// draft reply with its sources, the steps (take over, save, approve, forward, close) and the
// audit trail. Every step goes to /api/v1/staff/inbox/{ref}/…, which writes the audit log.
//
//   /staff/inbox/MK-2026-000017

import { clearFieldError, dateTime, fieldError, h, startPage } from "./common.js";
import { germanDate, safeHttpUrl, uid } from "../../widget/dom.js";

const ACTIONS = {
  accepted: "eingegangen", triaged: "eingeordnet", triage_failed: "Einordnung fehlgeschlagen",
  triage_retry: "Einordnung wiederholt", viewed: "angesehen", review_started: "Bearbeitung übernommen",
  assigned: "zugewiesen", draft_edited: "Entwurf bearbeitet", answered: "Antwort freigegeben",
  forwarded: "weitergeleitet", closed: "abgeschlossen", attachment_viewed: "Anhang geöffnet",
};

const ACTORS = { system: "Amtslotse", intake: "Eingang (automatisch)" };
const CHANNELS = { chat: "Übergabe aus dem Chat", email: "E-Mail", api: "Online-Formular (Schnittstelle)" };

const page = await startPage("message");
if (page) await show(page);

async function show(page) {
  const reference = decodeURIComponent(location.pathname.split("/").pop());
  const base = `api/v1/staff/inbox/${encodeURIComponent(reference)}`;
  const heading = page.main.querySelector("h1");
  heading.textContent = `Nachricht ${reference}`;
  document.title = `Nachricht ${reference} – Amtslotse für Mitarbeitende`;
  heading.before(h("p", { class: "back" }, h("a", { href: page.link("staff") }, "Zurück zum Posteingang")));
  let item;
  try {
    item = await page.api(base);
  } catch (error) {
    page.fail(error.message);
    return;
  }
  const overview = h("section", { "aria-labelledby": "overview-title", class: "card" });
  const work = h("section", { "aria-labelledby": "draft-title", class: "card draft" });
  const audit = h("section", { "aria-labelledby": "audit-title", class: "card" });
  page.main.append(h("div", { class: "columns" },
    h("div", { class: "column" }, overview, messageSection(item), fieldsSection(page, item), attachmentsSection(page, base, item)),
    h("div", { class: "column" }, work, audit)));

  const render = () => {
    overview.replaceChildren(...overviewParts(item).filter(Boolean));
    work.replaceChildren(...draftParts(page, item, step).filter(Boolean));
  };

  /** One step of the workflow; the answer (summary + draft) updates the page. */
  async function step(path, body, done) {
    for (const button of work.querySelectorAll("button")) button.disabled = true;
    try {
      const changed = await page.api(`${base}/${path}`, { method: path === "draft" ? "PUT" : "POST", body });
      item = { ...item, ...changed };
      render();
      page.announce(`${done} Zustand: ${item.state_label}.`);
      work.querySelector("h2").focus(); // the pressed button may be gone: a stable place to go on from
      await refreshAudit();
    } catch (error) {
      for (const button of work.querySelectorAll("button")) button.disabled = false;
      page.fail(error.message);
    }
  }

  async function refreshAudit() {
    try {
      const { entries } = await page.api(`${base}/audit`);
      audit.replaceChildren(...auditParts(page, entries));
    } catch (error) {
      audit.replaceChildren(h("h2", { id: "audit-title" }, "Protokoll"), h("p", {}, error.message));
    }
  }
  render();
  await refreshAudit();
}

function overviewParts(item) {
  const rows = [
    ["Zustand", item.state_label], ["Priorität", item.priority_label],
    ["Kategorie", item.category_label || "noch nicht eingeordnet"],
    ["Team", item.team || "–"], ["Zuständig", item.assignee || "niemand"],
    ["Eingegangen", dateTime(item.received_at)], ["Weg", CHANNELS[item.channel] || item.channel],
  ];
  if (item.sender) rows.push(["Absender", item.sender]);
  return [
    h("h2", { id: "overview-title" }, "Überblick"),
    h("dl", { class: "facts" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    item.triage_error ? h("p", { class: "warning" }, `Automatische Einordnung fehlgeschlagen: ${item.triage_error}`) : null,
  ];
}

/** The text with every span of `spans` (personal data found by the server) in a <mark>. */
function marked(text, spans) {
  const parts = [];
  let at = 0;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue; // overlapping findings: the first one wins
    parts.push(text.slice(at, span.start));
    parts.push(h("mark", { class: "personal", "data-kind": span.kind }, text.slice(span.start, span.end),
      h("span", { class: "visually-hidden" }, ` (persönliche Daten: ${span.kind})`)));
    at = span.end;
  }
  parts.push(text.slice(at));
  return parts;
}

function messageSection(item) {
  return h("section", { "aria-labelledby": "text-title", class: "card" },
    h("h2", { id: "text-title" }, "Nachricht"),
    h("p", { class: "hint" }, h("mark", { class: "personal" }, "Markiert"),
      ": persönliche Daten (z. B. Namen, BG-Nummer, IBAN). Nur für die Bearbeitung dieses Anliegens verwenden."),
    item.subject ? h("p", { class: "subject" }, h("strong", {}, "Betreff: "), marked(item.subject, item.subject_personal_data)) : null,
    h("div", { class: "message-text", dir: "auto" }, marked(item.text, item.personal_data)));
}

function fieldsSection(page, item) {
  const labels = page.context.field_labels;
  const fields = item.fields?.items || [];
  const section = h("section", { "aria-labelledby": "fields-title", class: "card" }, h("h2", { id: "fields-title" }, "Erkannte Angaben"));
  const facts = [];
  if (item.fields?.deadline) facts.push(["Frist", germanDate(item.fields.deadline)]);
  if (item.fields?.bescheid_date) facts.push(["Bescheid vom", germanDate(item.fields.bescheid_date)]);
  if (facts.length) section.append(h("dl", { class: "facts" }, facts.flatMap(([t, v]) => [h("dt", {}, t), h("dd", {}, v)])));
  if (!fields.length) {
    section.append(h("p", {}, "Keine Angaben erkannt."));
    return section;
  }
  section.append(h("table", {},
    h("thead", {}, h("tr", {}, ["Art", "Wert", "Hinweis"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, fields.map((field) => h("tr", {},
      h("td", {}, labels[field.kind] || field.kind),
      h("td", {}, field.kind === "datum" ? germanDate(String(field.value)) : String(field.text ?? field.value)),
      h("td", {}, fieldNote(field)))))));
  return section;
}

function fieldNote(field) {
  const notes = [];
  if (field.role === "frist") notes.push("Frist");
  if (field.role === "bescheid") notes.push("Datum des Bescheids");
  if (field.valid === true) notes.push("Prüfziffer stimmt");
  if (field.valid === false) notes.push("Prüfziffer stimmt nicht");
  if (field.personal) notes.push("persönlich");
  return notes.join(", ");
}

function attachmentsSection(page, base, item) {
  const section = h("section", { "aria-labelledby": "attachments-title", class: "card" }, h("h2", { id: "attachments-title" }, "Anhänge"));
  if (!item.attachments.length) {
    section.append(h("p", {}, "Keine Anhänge."));
    return section;
  }
  section.append(h("ul", { class: "attachments" }, item.attachments.map((a) => h("li", {},
    h("a", { href: page.link(`${base}/attachments/${a.id}`), download: a.filename }, `${a.filename} herunterladen`),
    ` (${a.doc_type_label || a.content_type}, ${Math.max(1, Math.round(a.size / 1024))} KB)`,
    a.text ? h("details", {}, h("summary", {}, "Erkannter Text"), h("p", { class: "attachment-text" }, a.text)) : null))));
  return section;
}

function draftParts(page, item, step) {
  const draft = item.draft || {};
  const open = item.state === "new" || item.state === "in_review";
  const parts = [h("h2", { id: "draft-title", tabindex: "-1" }, "Antwort")];
  if (draft.approved_text) {
    parts.push(
      h("p", { class: "done" }, `Freigegeben von ${draft.approved_by} am ${dateTime(draft.approved_at)}.`),
      h("div", { class: "message-text approved" }, draft.approved_text));
  } else if (!open) {
    parts.push(h("p", { class: "done" }, `Diese Nachricht ist ${item.state_label}${item.state === "forwarded" && item.team ? ` an ${item.team}` : ""}.`));
  }
  const ids = { text: uid("draft"), hint: uid("hint") };
  const text = h("textarea", { id: ids.text, rows: "14", "aria-describedby": ids.hint, readonly: !open, maxlength: "20000" });
  text.value = draft.text || "";
  if (!draft.approved_text) {
    parts.push(
      h("div", { class: "field" },
        h("label", { for: ids.text }, draft.label === "Entwurf" || !draft.label ? "Entwurf der Antwort" : draft.label),
        h("p", { id: ids.hint, class: "hint" }, open
          ? "Ein Vorschlag von Amtslotse: bitte prüfen und anpassen. Es wird nichts automatisch versendet."
          : "Nur zum Lesen."),
        text));
  }
  parts.push(sources(draft));
  if (!open) return parts;

  const buttons = h("div", { class: "buttons" });
  const save = h("button", { type: "button", class: "secondary" }, "Entwurf speichern");
  save.addEventListener("click", () => step("draft", { text: text.value }, "Entwurf gespeichert."));
  if (item.state === "new") {
    const take = h("button", { type: "button", class: "primary" }, "Bearbeitung übernehmen");
    take.addEventListener("click", () => step("review", undefined, "Sie bearbeiten diese Nachricht jetzt."));
    buttons.append(take, save);
    parts.push(buttons, h("p", { class: "hint" }, "Freigeben, weiterleiten oder abschließen können Sie, sobald Sie die Bearbeitung übernommen haben."));
    return parts;
  }
  const approve = h("button", { type: "button", class: "primary" }, "Antwort freigeben");
  approve.addEventListener("click", () => {
    const changed = text.value !== (draft.text || "");
    step("answer", changed ? { text: text.value } : {}, "Antwort freigegeben.");
  });
  buttons.append(approve, save);
  parts.push(buttons, forwardForm(page, item, step), closeForm(page, step));
  return parts;
}

function sources(draft) {
  const citations = draft.citations || [];
  const checklist = draft.checklist || [];
  const box = h("div", { class: "sources" });
  if (citations.length) {
    box.append(h("h3", {}, "Quellen des Entwurfs"), h("ol", {}, citations.map((c) => {
      const href = safeHttpUrl(c.url);
      const title = c.citation || c.title || "Quelle";
      return h("li", {},
        href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, title, h("span", { class: "visually-hidden" }, " (öffnet in neuem Fenster)")) : title,
        c.title && c.title !== title ? ` – ${c.title}` : "",
        c.valid_from ? h("span", { class: "muted" }, ` (Stand ${germanDate(c.valid_from)})`) : null);
    })));
  } else {
    box.append(h("p", { class: "hint" }, "Der Entwurf stützt sich auf keine Quelle."));
  }
  if (checklist.length) box.append(h("h3", {}, "Checkliste Unterlagen"), h("ul", {}, checklist.map((entry) => h("li", {}, entry))));
  return box;
}

function forwardForm(page, item, step) {
  const ids = { team: uid("team"), list: uid("teams") };
  const team = h("input", { id: ids.team, type: "text", list: ids.list, maxlength: "100", autocomplete: "off", required: true });
  const form = h("form", { class: "inline-form", novalidate: true },
    h("fieldset", {}, h("legend", {}, "Weiterleiten"),
      h("div", { class: "field" }, h("label", { for: ids.team }, "An Team oder Stelle"), team,
        h("datalist", { id: ids.list }, page.context.teams.filter((t) => t !== item.team).map((t) => h("option", { value: t })))),
      h("button", { type: "submit", class: "secondary" }, "Weiterleiten")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!team.value.trim()) {
      fieldError(team, "Bitte angeben, an welches Team die Nachricht geht.");
      return;
    }
    clearFieldError(team);
    step("forward", { team: team.value.trim() }, `An ${team.value.trim()} weitergeleitet.`);
  });
  return form;
}

function closeForm(page, step) {
  const id = uid("reason");
  const reason = h("select", { id, required: true },
    h("option", { value: "" }, "bitte wählen"),
    Object.entries(page.context.close_reasons).map(([key, label]) => h("option", { value: key }, label)));
  const form = h("form", { class: "inline-form", novalidate: true },
    h("fieldset", {}, h("legend", {}, "Ohne Antwort abschließen"),
      h("div", { class: "field" }, h("label", { for: id }, "Grund"), reason),
      h("button", { type: "submit", class: "secondary" }, "Abschließen")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!reason.value) {
      fieldError(reason, "Bitte einen Grund für das Abschließen wählen.");
      return;
    }
    clearFieldError(reason);
    step("close", { reason: reason.value }, "Nachricht abgeschlossen.");
  });
  return form;
}

function auditParts(page, entries) {
  const { states, close_reasons: reasons } = page.context;
  const details = (d) => {
    const out = [];
    if (d.from && d.to) out.push(`${states[d.from] || d.from} → ${states[d.to] || d.to}`);
    if (d.team) out.push(`Team: ${d.team}`);
    if (d.assignee) out.push(`zuständig: ${d.assignee}`);
    if (d.reason) out.push(`Grund: ${reasons[d.reason] || d.reason}`);
    if (d.chars !== undefined) out.push(`${d.chars} Zeichen${d.edited ? ", geändert" : ""}`);
    return out.join("; ");
  };
  return [
    h("h2", { id: "audit-title" }, "Protokoll"),
    h("table", { class: "audit" },
      h("caption", { class: "visually-hidden" }, "Wer hat wann was getan, älteste Einträge zuerst"),
      h("thead", {}, h("tr", {}, ["Zeitpunkt", "Wer", "Was", "Einzelheiten"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, entries.map((e) => h("tr", { "data-action": e.action },
        h("td", {}, dateTime(e.at)), h("td", {}, ACTORS[e.actor] || e.actor),
        h("td", {}, ACTIONS[e.action] || e.action), h("td", {}, details(e.details || {})))))),
  ];
}
