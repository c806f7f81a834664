// Administration (role "admin"): the audit chain checked, usage per month (page and CSV), data
// protection requests (export as JSON, erasure), the generated records; for the cooperative
// ("*") also the tenants with their state. Everything goes through /api/v1/staff/admin and
// /api/v1/staff/privacy (web/admin_api.py); this page only shows and asks.
//
//   /staff/verwaltung?tenant=musterkreis

import { h, request, startPage, url } from "./common.js";

const page = await startPage("admin");
if (page) show(page);

function show(page) {
  const cooperative = page.context.user.tenant === "*";
  page.main.append(auditSection(page, cooperative), usageSection(page, cooperative), privacySection(page));
  if (cooperative) page.main.append(tenantsSection(page));
  page.announce("Verwaltung geladen.");
}

function card(id, title, ...children) {
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function auditSection(page, cooperative) {
  const result = h("ul", { class: "audit-result" });
  const button = h("button", { type: "button", class: "primary" }, "Protokoll jetzt prüfen");
  button.addEventListener("click", async () => {
    result.replaceChildren();
    try {
      // The cooperative checks every chain (its own "*" too), a Jobcenter its own.
      const report = cooperative ? await request("api/v1/staff/admin/audit/verify") : await page.api("api/v1/staff/admin/audit/verify");
      result.append(...report.chains.map((c) => h("li", {}, c.message)));
      page.announce(report.ok ? "Das Protokoll ist in Ordnung." : "Das Protokoll wurde verändert: siehe Ergebnis.");
    } catch (error) {
      page.fail(error.message);
    }
  });
  return card("audit-title", "Prüfprotokoll",
    h("p", {}, "Prüft die Prüfsummen aller Einträge: ein geänderter oder gelöschter Eintrag wird genannt."),
    button, result);
}

function usageSection(page, cooperative) {
  const month = h("input", { id: "usage-month", type: "month", name: "month", value: new Date().toISOString().slice(0, 7) });
  const links = h("p", {});
  const update = () => {
    const query = { month: month.value };
    links.replaceChildren(...[
      h("a", { href: page.link("api/v1/staff/admin/usage", { ...query, format: "html" }) }, "Als Seite öffnen"), " · ",
      h("a", { href: page.link("api/v1/staff/admin/usage", { ...query, format: "csv" }), download: "" }, "Als CSV (Excel)"),
      cooperative ? [" · ", h("a", { href: url("api/v1/staff/admin/usage", { ...query, format: "csv" }).href, download: "" },
        "Alle Jobcenter mit Anteilen (CSV)")] : [],
    ].flat());
  };
  month.addEventListener("change", update);
  update();
  return card("usage-title", "Nutzung je Monat",
    h("div", { class: "field" }, h("label", { for: "usage-month" }, "Monat"), month), links);
}

function privacySection(page) {
  const kind = h("select", { id: "case-kind" },
    h("option", { value: "reference" }, "Aktenzeichen"), h("option", { value: "conversation_id" }, "Gesprächsnummer"));
  const key = h("input", { id: "case-key", type: "text", autocomplete: "off", required: true, maxlength: 64 });
  const confirm = h("input", { id: "case-confirm", type: "checkbox" });
  const exportButton = h("button", { type: "button", class: "primary" }, "Auskunft herunterladen (JSON)");
  const eraseButton = h("button", { type: "button", class: "secondary" }, "Endgültig löschen");
  const report = h("ul", { class: "erase-report" });
  const body = () => ({ [kind.value]: key.value.trim() });
  exportButton.addEventListener("click", async () => {
    if (!key.value.trim()) return page.fail("Bitte ein Aktenzeichen oder eine Gesprächsnummer angeben.");
    try {
      const data = await page.api("api/v1/staff/privacy/export", { method: "POST", body: body() });
      const file = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
      const link = h("a", { href: URL.createObjectURL(file), download: `auskunft-${key.value.trim()}.json` });
      link.click();
      URL.revokeObjectURL(link.href);
      page.announce("Auskunft erstellt: " + Object.entries(data.found).map(([k, v]) => `${k}: ${v}`).join(", ") + ".");
    } catch (error) {
      page.fail(error.message);
    }
  });
  eraseButton.addEventListener("click", async () => {
    if (!key.value.trim()) return page.fail("Bitte ein Aktenzeichen oder eine Gesprächsnummer angeben.");
    if (!confirm.checked) return page.fail("Bitte die Löschung mit dem Häkchen bestätigen.");
    try {
      const done = await page.api("api/v1/staff/privacy/erase", { method: "POST", body: { ...body(), confirm: true } });
      report.replaceChildren(...Object.entries(done.removed).map(([k, v]) => h("li", {}, `gelöscht: ${k}: ${v}`)),
        ...Object.entries(done.kept).map(([k, v]) => h("li", {}, `bleibt: ${k}: ${v}`)));
      confirm.checked = false;
      page.announce("Gelöscht.");
    } catch (error) {
      page.fail(error.message);
    }
  });
  return card("privacy-title", "Datenschutz: Auskunft und Löschung",
    h("div", { class: "field" }, h("label", { for: "case-kind" }, "Suchen nach"), kind),
    h("div", { class: "field" }, h("label", { for: "case-key" }, "Aktenzeichen oder Gesprächsnummer"), key),
    h("div", { class: "field" }, confirm, h("label", { for: "case-confirm" }, "Ich will die Daten dieses Falls endgültig löschen.")),
    h("p", {}, exportButton, " ", eraseButton), report,
    h("p", {}, h("a", { href: page.link("api/v1/staff/privacy/records", { format: "html" }) },
      "Verzeichnis der Verarbeitungstätigkeiten (Entwurf)"), " · ",
    h("a", { href: url(`tenants/${encodeURIComponent(page.tenant)}/barrierefreiheit`).href }, "Erklärung zur Barrierefreiheit")));
}

function tenantsSection(page) {
  const body = h("tbody", {});
  const section = card("tenants-title", "Jobcenter im Verbund",
    h("table", {}, h("thead", {}, h("tr", {}, ["Mandant", "Name", "Status", "Aktion"].map((c) => h("th", { scope: "col" }, c)))), body),
    h("p", {}, "Anlegen und Löschen: auf der Kommandozeile (amtslotse tenant create|delete) oder über die Schnittstelle."));
  const load = async () => {
    try {
      const { tenants } = await request("api/v1/staff/admin/tenants");
      body.replaceChildren(...tenants.map((t) => row(t)));
    } catch (error) {
      page.fail(error.message);
    }
  };
  const row = (t) => {
    const active = t.state === "active";
    const button = h("button", { type: "button", class: "secondary" }, active ? `${t.tenant} abschalten` : `${t.tenant} einschalten`);
    button.addEventListener("click", async () => {
      try {
        await request(`api/v1/staff/admin/tenants/${encodeURIComponent(t.tenant)}/${active ? "disable" : "enable"}`,
          { method: "POST", body: {} });
        page.announce(active ? `${t.name}: abgeschaltet.` : `${t.name}: wieder aktiv.`);
        await load();
      } catch (error) {
        page.fail(error.message);
      }
    });
    return h("tr", {}, h("th", { scope: "row" }, t.tenant), h("td", {}, t.name),
      h("td", {}, active ? "aktiv" : `abgeschaltet${t.reason ? ` (${t.reason})` : ""}`), h("td", {}, button));
  };
  load();
  return section;
}
