/* LeadThe.AI's small progressive enhancements; every page works without them.

   1. Tables that scroll inside their own box can be scrolled from the keyboard: the box gets tabindex=0 and a
      name (its caption, else the heading before it).
   2. Destructive actions: a form with data-confirm="question" is confirmed in a native <dialog> before it is sent
   (then it carries confirmed=yes). Without JavaScript, or without <dialog>, the server answers a confirmation
   page instead, so nothing is destroyed by a single click either way. CSP-safe: no inline script or style. */
(function () {
  "use strict";
  function heading(el) {
    var cap = el.querySelector("caption");
    if (cap && cap.textContent.trim()) return cap.textContent.trim();
    for (var p = el; p && p !== document.body; p = p.parentElement) {
      for (var s = p.previousElementSibling; s; s = s.previousElementSibling) {
        if (/^H[1-4]$/.test(s.tagName)) return s.textContent.trim();
      }
    }
    return "";
  }
  function regions() {
    var boxes = document.querySelectorAll(".table-wrap, .scroll, main table.data");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth <= box.clientWidth + 1) continue;  // nothing to scroll (yet): leave it as it is
      box.setAttribute("tabindex", "0");
      var name = heading(box);
      if (box.tagName !== "TABLE" && !box.hasAttribute("role") && name) {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name);
      }
    }
  }
  regions();
  window.addEventListener("resize", regions);
  document.addEventListener("htmx:afterSettle", regions);
})();

(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var title = dialog.querySelector("h2"), detail = dialog.querySelector("p"), ok = dialog.querySelector("[value=ok]");
  var pending = null;

  function label(button) {
    return (button && (button.getAttribute("data-confirm-button") || button.textContent) || "").replace(/\s+/g, " ").trim();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-confirm]") || form.querySelector("input[name=confirmed]")) return;
    event.preventDefault();
    event.stopPropagation();  // htmx and others see only the confirmed submission
    pending = { form: form, submitter: event.submitter || form.querySelector("button") };
    title.textContent = form.getAttribute("data-confirm");
    detail.textContent = form.getAttribute("data-confirm-detail") || "";
    detail.hidden = !detail.textContent;
    ok.textContent = label(pending.submitter) || ok.getAttribute("data-default");
    dialog.returnValue = "";
    dialog.showModal();
  }, true);

  dialog.addEventListener("close", function () {
    var p = pending;
    pending = null;
    if (!p) return;
    if (dialog.returnValue !== "ok") { if (p.submitter) p.submitter.focus(); return; }
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "confirmed";
    field.value = "yes";
    p.form.appendChild(field);
    if (p.form.requestSubmit) p.form.requestSubmit(p.submitter && p.submitter.form === p.form ? p.submitter : undefined);
    else p.form.submit();
  });
})();

/* 3. The account menu (a <details> that works without JavaScript) also closes on Escape and on a click outside. */
(function () {
  "use strict";
  var menu = document.querySelector("details.menu");
  if (!menu) return;
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();

/* 4. A form that comes back with errors: focus its error summary (it links to each field), on load and after an
      htmx swap, so a screen reader reads it and the keyboard starts there. */
(function () {
  "use strict";
  function focusSummary(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) summary.focus();
  }
  focusSummary(document);
  document.addEventListener("htmx:afterSettle", function (event) { focusSummary(event.detail && event.detail.elt); });
})();

/* 5. A choice that decides which fields apply (data-shows="value" on the fieldsets, e.g. the identity provider's
      protocol on /admin/sso): only the chosen one's fields are shown. Without JavaScript all are shown, each
      with its legend, and the server reads only the chosen one's. */
(function () {
  "use strict";
  function update(form, name) {
    var chosen = form.querySelector("input[name='" + name + "']:checked");
    var parts = form.querySelectorAll("fieldset[data-shows]");
    for (var i = 0; i < parts.length; i++) parts[i].hidden = !chosen || parts[i].getAttribute("data-shows") !== chosen.value;
  }
  var forms = document.querySelectorAll("form[data-choice]");
  for (var i = 0; i < forms.length; i++) {
    var form = forms[i], name = form.getAttribute("data-choice");
    update(form, name);
    form.addEventListener("change", function (event) {
      if (event.target.name === this.getAttribute("data-choice")) update(this, event.target.name);
    });
  }
})();
