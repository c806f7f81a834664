/*
 * Amtslotse chat widget: the one script a Landkreis website embeds.
 *
 *   <script src="https://amtslotse.example/widget.js" data-tenant="musterkreis" defer></script>
 *
 * A classic script (works with or without defer/async) that finds its own URL, and from it
 * the API and the widget's modules, then mounts the chat. The standalone page /chat/{tenant}
 * uses the same script with data-mode="page" and data-target (the id of its <main>).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  // The folder of widget.js: API and modules live beside it (also under a path prefix).
  var base = new URL(".", script.src).href;
  var tenant = script.getAttribute("data-tenant") || "";
  var mode = script.getAttribute("data-mode") === "page" ? "page" : "embed";
  var targetId = script.getAttribute("data-target");

  if (!/^[a-z0-9][a-z0-9_-]{1,62}$/.test(tenant)) {
    // For the web team of the Landkreis, not for citizens: nothing is shown.
    console.error("Amtslotse: data-tenant fehlt oder ist ungültig (Kleinbuchstaben, Ziffern, - und _).");
    return;
  }
  var registry = (window.__amtslotse = window.__amtslotse || {});
  if (registry[tenant]) {
    return; // the tag was included twice: one widget is enough
  }
  registry[tenant] = true;

  function start() {
    var target = targetId ? document.getElementById(targetId) : null;
    import(base + "widget/app.js")
      .then(function (app) {
        return app.mount({ base: base, tenant: tenant, mode: mode, target: target });
      })
      .catch(function (error) {
        registry[tenant] = false;
        console.error("Amtslotse: Chat konnte nicht geladen werden.", error);
        if (target) {
          target.textContent = "Der Chat konnte nicht geladen werden. Bitte versuchen Sie es später noch einmal.";
        }
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
