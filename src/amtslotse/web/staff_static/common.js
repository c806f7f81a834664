// What every staff page shares: the API (same-origin, the login cookie does the rest), the
// header with user, roles, navigation and logout, the live regions for results and errors.
//
//   import { startPage } from "./common.js";
//   const page = await startPage("inbox");          // null: the browser is on its way to the login
//   const { items } = await page.api("api/v1/staff/inbox", { query: { state: "new" } });
//   page.announce("3 Nachrichten gefunden.");        // read out by screen readers, shown on the page
//
// The session token never reaches JavaScript: the login sets an HttpOnly, SameSite=Strict
// cookie, and every request here is same-origin with credentials "same-origin".

import { h } from "../../widget/dom.js";

export { h };

/** The app's root (…/ above /staff/static/): the workspace also works under a path prefix. */
export const ROOT = new URL("../../", import.meta.url);

export const ROLE_LABELS = {
  sachbearbeitung: "Sachbearbeitung", redaktion: "Redaktion", auswertung: "Auswertung", admin: "Verwaltung",
};

// Which page needs which role (admin may do everything), in the order of the navigation.
export const PAGES = [
  { page: "inbox", path: "staff", label: "Posteingang", role: "sachbearbeitung" },
  { page: "knowledge", path: "staff/knowledge", label: "Wissen", role: "redaktion" },
  { page: "analytics", path: "staff/analytics", label: "Auswertung", role: "auswertung" },
  { page: "admin", path: "staff/verwaltung", label: "Verwaltung", role: "admin" },
];

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || "Die Anfrage ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.");
    this.status = status;
    this.code = code;
  }
}

/** A URL below the app's root, with query parameters (empty values left out). */
export function url(path, query = {}) {
  const target = new URL(path, ROOT);
  for (const [name, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") target.searchParams.set(name, String(value));
  }
  return target;
}

export function loginUrl() {
  const here = location.pathname + location.search;
  return url("staff/login", { next: here }).href;
}

/** Fetch below the root; JSON in and out; errors as ApiError with the server's German message. */
export async function request(path, { method = "GET", body, query, form } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (form !== undefined) {
    init.body = form; // multipart: the browser sets the Content-Type with its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch {
    throw new ApiError(0, "network", "Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung.");
  }
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch {
      // not our JSON (a proxy's page): the general message
    }
    throw new ApiError(response.status, error.code, error.message);
  }
  return response.headers.get("content-type")?.includes("json") ? response.json() : response.text();
}

/** "2026-11-24T09:15:00+00:00" -> "24.11.2026, 10:15" (local time, German). */
export function dateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString("de-DE", { dateStyle: "medium", timeStyle: "short" });
}

/** Hours -> "vor 3 Std." / "vor 2 Tagen" (short: the inbox's column stays narrow). */
export function age(hours) {
  if (hours < 1) return "vor < 1 Std.";
  if (hours < 48) return `vor ${Math.floor(hours)} Std.`;
  return `vor ${Math.floor(hours / 24)} Tagen`;
}

export function hasRole(user, role) {
  return user.roles.includes(role) || user.roles.includes("admin");
}

/**
 * Loads the context (who, which tenant), builds the header and the live regions; sends the
 * browser to the login when there is no session. Returns the page object, or null.
 */
export async function startPage(name) {
  const main = document.getElementById("main");
  const params = new URLSearchParams(location.search);
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const alert = h("p", { class: "alert", role: "alert" });
  main.querySelector("h1").after(status, alert);
  let context;
  try {
    context = await request("staff/context.json", { query: { tenant: params.get("tenant") } });
  } catch (error) {
    if (error.status === 401) {
      location.replace(loginUrl());
      return null;
    }
    alert.textContent = error.message;
    return null;
  }
  const page = new Page(name, context, main, status, alert);
  page.header();
  const needed = PAGES.find((p) => p.page === name || (name === "message" && p.page === "inbox"));
  if (needed && !hasRole(context.user, needed.role)) {
    page.fail(`Für diese Seite fehlt Ihnen die Rolle „${ROLE_LABELS[needed.role]}“.`);
    return null;
  }
  return page;
}

class Page {
  constructor(name, context, main, status, alert) {
    Object.assign(this, { name, context, main, statusEl: status, alertEl: alert });
    this.tenant = context.tenant;
  }

  /** The tenant as query parameter, for an account of the cooperative ("*") only. */
  get tenantQuery() {
    return this.context.user.tenant === "*" ? { tenant: this.tenant } : {};
  }

  api(path, options = {}) {
    return request(path, { ...options, query: { ...this.tenantQuery, ...(options.query || {}) } }).catch((error) => {
      if (error.status === 401) location.replace(loginUrl());
      throw error;
    });
  }

  link(path, query = {}) {
    return url(path, { ...this.tenantQuery, ...query }).href;
  }

  /** A result for everyone: shown, and read out by screen readers (polite). */
  announce(text) {
    this.alertEl.textContent = "";
    // A fresh text node each time: the same sentence twice is still announced.
    this.statusEl.textContent = "";
    requestAnimationFrame(() => { this.statusEl.textContent = text; });
  }

  /** An error: shown and read out at once (role="alert"). */
  fail(text) {
    this.statusEl.textContent = "";
    this.alertEl.textContent = text;
  }

  /** An account of the cooperative works for one Jobcenter at a time: the choice is in the address. */
  tenantSwitch() {
    const select = h("select", { id: "tenant-switch", name: "tenant" },
      this.context.tenants.map((t) => h("option", { value: t, selected: t === this.tenant }, t)));
    return h("form", { method: "get", class: "tenant-switch", action: this.name === "message" ? url("staff").href : "" },
      h("label", { for: "tenant-switch" }, "Jobcenter"), select,
      h("button", { type: "submit", class: "secondary" }, "Wechseln"));
  }

  header() {
    const { user, tenant_name: tenantName } = this.context;
    const bar = document.getElementById("bar");
    const links = PAGES.filter((p) => hasRole(user, p.role)).map((p) => h("li", {},
      h("a", { href: this.link(p.path), "aria-current": p.page === this.name || (this.name === "message" && p.page === "inbox") ? "page" : null }, p.label)));
    const logout = h("button", { type: "button", class: "secondary" }, "Abmelden");
    logout.addEventListener("click", async () => {
      try {
        await request("api/v1/staff/logout", { method: "POST" });
      } finally {
        location.assign(url("staff/login").href);
      }
    });
    const roles = user.roles.map((r) => ROLE_LABELS[r] || r).join(", ");
    bar.append(
      h("nav", { "aria-label": "Bereiche" }, h("ul", {}, links)),
      h("div", { class: "who" },
        h("p", {}, "Angemeldet: ", h("strong", {}, user.name), tenantName && user.tenant !== "*" ? ` · ${tenantName}` : ""),
        user.tenant === "*" ? this.tenantSwitch() : null,
        h("p", { class: "roles" }, `Rollen: ${roles}`),
        logout));
  }
}

/**
 * An input error next to its field: marked invalid, the message tied to it with
 * aria-describedby (read out with the focus, which goes there), shown below the field.
 *
 *   if (!team.value.trim()) return fieldError(team, "Bitte ein Team angeben.");
 */
export function fieldError(control, text) {
  const id = `${control.id}-error`;
  let message = document.getElementById(id);
  if (!message) {
    message = h("p", { id, class: "field-error" });
    control.after(message);
    const described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  }
  message.textContent = text;
  control.setAttribute("aria-invalid", "true");
  control.focus();
}

/** Removes what fieldError added. */
export function clearFieldError(control) {
  const id = `${control.id}-error`;
  document.getElementById(id)?.remove();
  const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((d) => d && d !== id).join(" ");
  if (described) control.setAttribute("aria-describedby", described);
  else control.removeAttribute("aria-describedby");
  control.removeAttribute("aria-invalid");
}
