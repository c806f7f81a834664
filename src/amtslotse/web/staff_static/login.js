// The login form: posts name and password to /api/v1/staff/login. The answer sets the HttpOnly
// session cookie; the token in the JSON body is deliberately not kept (no storage in JS).
// Afterwards the browser goes back to the page it came from (?next=, same origin only).

import { h, request, url, ROOT } from "./common.js";

const main = document.getElementById("main");
const alert = h("p", { class: "alert", role: "alert", id: "login-error" });
const name = h("input", { id: "login-name", name: "name", type: "text", autocomplete: "username", required: true,
  maxlength: "100", spellcheck: "false", autocapitalize: "none" });
const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password",
  required: true, maxlength: "200" });
const submit = h("button", { type: "submit", class: "primary" }, "Anmelden");
const form = h("form", { class: "card login", novalidate: true, "aria-describedby": "login-error" },
  h("div", { class: "field" }, h("label", { for: "login-name" }, "Benutzername"), name),
  h("div", { class: "field" }, h("label", { for: "login-password" }, "Passwort"), password),
  submit);
main.append(h("p", {}, "Bitte melden Sie sich mit Ihrem Konto für Amtslotse an."), alert, form);
name.focus();

// Single sign-on (OpenID Connect), when the server has a provider configured: a plain link, the
// server sends the browser on to the provider and back into the workspace.
request("api/v1/staff/oidc").then((status) => {
  if (!status?.enabled) return;
  const target = new URL(nextPage());
  const next = target.pathname.slice(ROOT.pathname.length) + target.search;
  const sso = url("api/v1/staff/oidc/login");
  sso.searchParams.set("next", next);
  main.append(h("div", { class: "card login" }, h("p", {}, "Oder mit dem zentralen Konto Ihrer Behörde:"),
    h("a", { class: "button", id: "login-sso", href: sso.href }, "Mit Single Sign-on anmelden")));
}).catch(() => {});

/** Where to go after the login: a /staff page of this server, never another site. */
function nextPage() {
  const next = new URLSearchParams(location.search).get("next");
  if (next) {
    const target = new URL(next, ROOT);
    if (target.origin === ROOT.origin && target.pathname.startsWith(new URL("staff", ROOT).pathname)) return target.href;
  }
  return url("staff").href;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  alert.textContent = "";
  for (const input of [name, password]) input.removeAttribute("aria-invalid");
  const missing = [name, password].filter((input) => !input.value.trim());
  if (missing.length) {
    for (const input of missing) input.setAttribute("aria-invalid", "true");
    alert.textContent = missing.length === 2 ? "Bitte Benutzername und Passwort eingeben."
      : missing[0] === name ? "Bitte den Benutzernamen eingeben." : "Bitte das Passwort eingeben.";
    missing[0].focus();
    return;
  }
  submit.disabled = true;
  try {
    await request("api/v1/staff/login", { method: "POST", body: { name: name.value.trim(), password: password.value } });
    location.assign(nextPage());
  } catch (error) {
    alert.textContent = error.message;
    password.value = "";
    password.focus();
  } finally {
    submit.disabled = false;
  }
});
