// Analytics for the Landrat's questions: questions per day and topic, outcome shares,
// feedback, unanswered questions (gaps for curated answers), inbox volume and time to first
// response, estimated staff time saved; CSV export. Charts are server-rendered SVG images
// (/api/v1/staff/analytics/chart/{name}.svg); every chart has its numbers in a table too.
//
//   /staff/analytics?days=90

import { dateTime, h, startPage } from "./common.js";
import { germanDate } from "../../widget/dom.js";

const PERIODS = { 7: "letzte 7 Tage", 30: "letzte 30 Tage", 90: "letzte 90 Tage", 365: "letztes Jahr" };
const OUTCOMES = { answered: "beantwortet", handover: "übergeben", refused: "abgelehnt", urgent: "Notlage" };

const page = await startPage("analytics");
if (page) await show(page);

async function show(page) {
  const chosen = new URLSearchParams(location.search).get("days");
  const days = PERIODS[chosen] ? chosen : "30";
  const form = h("form", { method: "get", class: "filters card", "aria-label": "Zeitraum wählen" },
    page.context.user.tenant === "*" ? h("input", { type: "hidden", name: "tenant", value: page.tenant }) : null,
    h("div", { class: "field" }, h("label", { for: "period" }, "Zeitraum"),
      h("select", { id: "period", name: "days" }, Object.entries(PERIODS).map(([value, label]) =>
        h("option", { value, selected: value === days }, label)))),
    h("div", { class: "filter-buttons" }, h("button", { type: "submit", class: "primary" }, "Anzeigen"),
      h("a", { class: "button secondary", href: page.link("api/v1/staff/analytics.csv", { days }), download: "" },
        "Als CSV herunterladen (Excel)")));
  page.main.append(form);
  let report;
  try {
    report = await page.api("api/v1/staff/analytics", { query: { days } });
  } catch (error) {
    page.fail(error.message);
    return;
  }
  const period = `${germanDate(report.period.from)} bis ${germanDate(report.period.to)}`;
  const saved = report.time_saved;
  const firstResponse = report.inbox.first_response_hours;
  page.main.append(
    h("section", { class: "card", "aria-labelledby": "summary-title" },
      h("h2", { id: "summary-title" }, `Überblick ${period}`),
      h("dl", { class: "facts" },
        fact("Fragen im Chat", report.total_questions),
        fact("davon beantwortet", `${report.counts.answered} (${percent(report.shares.answered)})`),
        fact("Nachrichten im Posteingang", report.inbox.total),
        fact("Erste Antwort (Median / 90 %)", `${hours(firstResponse.median)} / ${hours(firstResponse.p90)}`),
        fact("Geschätzte eingesparte Zeit", `${saved.hours.toLocaleString("de-DE")} Stunden (${saved.minutes_per_question} Min. je beantworteter Frage)`))),
    chart(page, days, "per_day", "Fragen pro Tag",
      ["Tag", "Fragen", "beantwortet", "übergeben", "abgelehnt", "Notlage"],
      report.per_day.filter((d) => d.questions).map((d) => [germanDate(d.day), d.questions, d.answered, d.handover, d.refused, d.urgent]),
      "Keine Fragen in diesem Zeitraum."),
    chart(page, days, "outcomes", "Anteil beantwortet, übergeben, abgelehnt, Notlage", ["Ergebnis", "Fragen", "Anteil"],
      Object.entries(OUTCOMES).map(([key, label]) => [label, report.counts[key], percent(report.shares[key])])),
    chart(page, days, "topics", "Fragen pro Thema", ["Thema", "Fragen"], report.topics.map((t) => [t.topic, t.count]),
      "Keine Themen in diesem Zeitraum."),
    chart(page, days, "feedback", "Rückmeldungen zu Antworten", ["Bewertung", "Anzahl"],
      [["Daumen hoch", report.feedback.up], ["Daumen runter", report.feedback.down]]),
    table("comments", "Kommentare zu Antworten", ["Zeitpunkt", "Bewertung", "Thema", "Kommentar"],
      report.feedback.comments.map((c) => [dateTime(c.at), c.rating === "up" ? "hoch" : "runter", c.topic, c.comment]),
      "Keine Kommentare in diesem Zeitraum."),
    table("unanswered", "Unbeantwortete Fragen (Lücken für kuratierte Antworten)", ["Frage (ohne persönliche Daten)", "Anzahl", "zuletzt"],
      report.unanswered.map((u) => [u.question, u.count, dateTime(u.last)]), "Keine unbeantworteten Fragen in diesem Zeitraum."),
    chart(page, days, "inbox", "Posteingang nach Kategorie", ["Kategorie", "Nachrichten"],
      report.inbox.per_category.map((c) => [c.label, c.count]), "Keine Nachrichten in diesem Zeitraum."),
    chart(page, days, "time_saved", "Geschätzte eingesparte Arbeitszeit", ["Thema", "beantwortete Fragen", "Minuten je Frage", "Minuten"],
      saved.by_topic.map((t) => [t.topic, t.questions, t.minutes_each, t.minutes]), "Keine beantworteten Fragen in diesem Zeitraum."));
  page.announce(`Auswertung ${period} geladen.`);
}

function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, String(value))];
}

function percent(share) {
  return `${Math.round(share * 100)} %`;
}

function hours(value) {
  return value === null || value === undefined ? "–" : `${value.toLocaleString("de-DE")} Std.`;
}

/** A chart (the server's SVG as an image) with its numbers as a table below. */
function chart(page, days, name, title, columns, rows, empty) {
  const section = table(name, title, columns, rows, empty);
  const img = h("img", {
    src: page.link(`api/v1/staff/analytics/chart/${name}.svg`, { days }), class: "chart",
    alt: `Diagramm „${title}“; die Zahlen stehen in der Tabelle darunter.`,
  });
  section.querySelector("h2").after(img);
  return section;
}

function table(name, title, columns, rows, empty = "Keine Daten.") {
  const id = `${name}-title`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title),
    rows.length
      ? h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) => i === 0 ? h("th", { scope: "row" }, String(cell)) : h("td", {}, String(cell)))))))
      : h("p", {}, empty));
}
