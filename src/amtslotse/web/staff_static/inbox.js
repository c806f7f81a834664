// The inbox: messages of the tenant, most urgent first (Notlage, then Frist, then the oldest),
// with filters for category, team, state, marking and age. The filters are a plain GET form:
// they live in the address, so reload, back and a bookmark keep them.
//
//   /staff?category=widerspruch&state=new&age=older-1d

import { age, dateTime, h, startPage } from "./common.js";

const LIMIT = 50;
const PREVIEW_CHARS = 200; // the API's preview length: a preview this long was cut
// Age filter -> the API's min_age_hours / max_age_hours.
const AGES = {
  "newer-1d": { label: "jünger als 24 Stunden", max_age_hours: 24 },
  "older-1d": { label: "älter als 1 Tag", min_age_hours: 24 },
  "older-3d": { label: "älter als 3 Tage", min_age_hours: 72 },
  "older-7d": { label: "älter als 7 Tage", min_age_hours: 168 },
};

const page = await startPage("inbox");
if (page) await show(page);

async function show(page) {
  const params = new URLSearchParams(location.search);
  const { context } = page;
  const chosen = (name) => params.get(name) || "";
  const filters = h("form", { class: "filters card", method: "get", role: "search", "aria-label": "Nachrichten filtern" },
    context.user.tenant === "*" ? h("input", { type: "hidden", name: "tenant", value: page.tenant }) : null,
    select("category", "Kategorie", context.categories.map((c) => [c.key, c.label]), chosen("category")),
    select("team", "Team", context.teams.map((t) => [t, t]), chosen("team")),
    select("state", "Zustand", Object.entries(context.states), chosen("state")),
    select("flag", "Markierung", Object.entries(context.flags), chosen("flag")),
    select("age", "Alter", Object.entries(AGES).map(([key, a]) => [key, a.label]), chosen("age")),
    h("div", { class: "filter-buttons" },
      h("button", { type: "submit", class: "primary" }, "Filter anwenden"),
      h("a", { href: page.link("staff"), class: "button secondary" }, "Zurücksetzen")));
  const caption = h("caption", {});
  const body = h("tbody", {});
  const table = h("table", { class: "queue" }, caption,
    h("colgroup", {}, ["message", "category", "state", "preview"].map((name) => h("col", { class: `col-${name}` }))),
    h("thead", {}, h("tr", {}, ["Nachricht", "Kategorie und Team", "Zustand", "Vorschau"]
      .map((title) => h("th", { scope: "col" }, title)))),
    body);
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Weitere Nachrichten laden");
  page.main.append(filters, h("div", { class: "table-wrap" }, table), more);

  const query = {};
  for (const name of ["category", "team", "state", "flag"]) if (chosen(name)) query[name] = chosen(name);
  const { label: _label, ...ageQuery } = AGES[chosen("age")] || {};
  Object.assign(query, ageQuery);
  const filtered = Object.keys(query).length > 0;

  let offset = 0;
  let shown = 0;
  async function load() {
    more.disabled = true;
    try {
      const { items } = await page.api("api/v1/staff/inbox", { query: { ...query, limit: LIMIT, offset } });
      for (const item of items) body.append(row(page, item));
      offset += items.length;
      shown += items.length;
      more.hidden = items.length < LIMIT;
      caption.textContent = shown
        ? `${shown} ${shown === 1 ? "Nachricht" : "Nachrichten"}${filtered ? " (gefiltert)" : ""}, dringende zuerst`
        : filtered ? "Keine Nachrichten zu diesen Filtern." : "Keine Nachrichten im Posteingang.";
      page.announce(caption.textContent);
    } catch (error) {
      page.fail(error.message);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", async () => {
    const before = shown;
    await load();
    body.rows[before]?.querySelector("a")?.focus(); // go on where the new rows begin
  });
  await load();
}

function select(name, label, options, value) {
  const id = `filter-${name}`;
  const element = h("select", { id, name },
    h("option", { value: "" }, "alle"),
    options.map(([key, text]) => h("option", { value: key, selected: key === value }, text)));
  return h("div", { class: "field" }, h("label", { for: id }, label), element);
}

function row(page, item) {
  const urgent = item.flags.includes("notlage") ? "notlage" : item.flags.includes("frist") ? "frist" : "normal";
  const link = h("a", { href: page.link(`staff/inbox/${encodeURIComponent(item.reference)}`) }, item.reference);
  // Reference, priority, age and channel in one cell: the table fits a tablet without scrolling.
  return h("tr", { class: `priority-${urgent}`, "data-reference": item.reference },
    h("th", { scope: "row" }, link,
      h("span", { class: "cell-line" }, h("span", { class: `badge badge-${urgent}` }, item.priority_label), " ",
        h("time", { datetime: item.received_at, title: dateTime(item.received_at) }, age(item.age_hours))),
      item.channel === "chat" ? h("span", { class: "cell-line muted" }, "aus dem Chat") : null),
    h("td", {}, item.category_label || "noch nicht eingeordnet", h("span", { class: "cell-line muted" }, `Team: ${item.team || "–"}`)),
    h("td", {}, item.state_label, item.assignee ? h("span", { class: "cell-line muted" }, item.assignee) : null),
    h("td", { class: "preview" }, item.preview.length >= PREVIEW_CHARS ? `${item.preview}…` : item.preview));
}
