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

/* 6. Requests that do not get through (issue 22): an htmx request that fails (no connection, a timeout, a 5xx) changes
      nothing, so the page and what was typed stay; a message in place says so, with "Try again" (the same form and
      button, or the same address into the same target). One per target; the next success there removes it. Focus
      moves only when it was lost. Words: <template id="net-error"> in base.html. The lesson page: player.js. */
(function () {
  "use strict";
  var tpl = document.getElementById("net-error");
  if (!tpl || !tpl.content || !document.addEventListener) return;
  var OWN = ".complete-form, .answer-form";
  var AFTER = /^(FORM|TABLE|THEAD|TBODY|TFOOT|TR|UL|OL|DL|SELECT|INPUT|TEXTAREA|BUTTON|A|IMG|SPAN|LABEL)$/;
  var shown = [];  // {box, text, target, elt, verb, path, submitter, kept, retrying}
  var submitters = typeof WeakMap === "function" ? new WeakMap() : null;

  // the button that sent each form (its name and value go with a retry)
  document.addEventListener("submit", function (event) {
    if (submitters && event.target && event.target.tagName === "FORM") submitters.set(event.target, event.submitter || null);
  }, true);

  function recordFor(target) {
    for (var i = 0; i < shown.length; i++) if (shown[i].target === target) return shown[i];
    return null;
  }
  function place(box, target) {
    if (AFTER.test(target.tagName)) {
      var anchor = target.closest("table") || target;
      anchor.parentNode.insertBefore(box, anchor.nextSibling);
    } else {
      target.insertBefore(box, target.firstChild);
    }
  }
  function say(rec, kind) {
    var words = rec.text.getAttribute("data-" + kind) || "";
    if (rec.kept) words += " " + (rec.text.getAttribute("data-kept") || "");
    rec.text.textContent = "";  // emptied first, so the same words are announced again after another failure
    setTimeout(function () { rec.text.textContent = words; }, 60);
  }
  function lostFocus() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement || !active.isConnected;
  }
  function failed(event) {
    var d = event.detail || {};
    var elt = d.elt, cfg = d.requestConfig || {};
    var status = d.xhr ? d.xhr.status : 0;
    if (event.type === "htmx:responseError" && status !== 0 && status < 500 && status !== 429) return;  // 4xx: own pages
    if (!elt || !elt.closest || elt.closest(OWN)) return;
    var target = d.target || cfg.target || elt;
    if (!target || !target.isConnected || !target.parentNode) return;
    var rec = recordFor(target);
    if (!rec) {
      var box = tpl.content.firstElementChild.cloneNode(true);
      rec = { box: box, text: box.querySelector("[data-offline]"), target: target };
      box.querySelector("[data-retry]").addEventListener("click", function () { retry(rec); });
      place(box, target);
      shown.push(rec);
    }
    rec.elt = elt;
    rec.verb = cfg.verb || "get";
    rec.path = cfg.path || (d.pathInfo && d.pathInfo.requestPath) || "";
    rec.submitter = elt.tagName === "FORM" && submitters ? submitters.get(elt) : null;
    rec.kept = !!(elt.tagName === "FORM" ? elt : elt.form || elt.closest("form"));
    rec.retrying = false;
    say(rec, event.type === "htmx:sendError" || status === 0 ? "offline" : status === 429 ? "limited" : "server");
    if (lostFocus()) rec.box.querySelector("[data-retry]").focus();
  }
  function sendsOnSubmit(form) {
    var trigger = form.getAttribute("hx-trigger") || form.getAttribute("data-hx-trigger");
    return !trigger || /(^|[\s,])submit\b/.test(trigger);
  }
  function retry(rec) {
    var elt = rec.elt;
    rec.retrying = true;
    if (!elt.isConnected) {  // the element that asked is gone: an address can still be opened as a page
      if (rec.verb === "get" && rec.path) window.location.assign(rec.path);
      return;
    }
    if (elt.tagName === "FORM" && elt.requestSubmit && sendsOnSubmit(elt)) {
      var button = rec.submitter;
      // a click (not requestSubmit(button)): htmx sends a button's name and value only after a click on it
      if (button && button.isConnected && button.form === elt && !button.disabled) button.click();
      else elt.requestSubmit();
    } else if (window.htmx) {
      window.htmx.ajax(rec.verb, rec.path, { source: elt, target: rec.target });
    }
  }
  function drop(rec) {
    shown.splice(shown.indexOf(rec), 1);
    var focusWasHere = rec.box.contains(document.activeElement) || (rec.retrying && lostFocus());
    if (rec.box.parentNode) rec.box.parentNode.removeChild(rec.box);
    if (!focusWasHere) return;
    // "Try again" is gone: focus what sent the request, else the (new) target
    var senders = [rec.submitter, rec.elt, rec.elt.id && document.getElementById(rec.elt.id)];
    var targets = [rec.target.id && document.getElementById(rec.target.id), rec.target];
    for (var i = 0; i < senders.length + targets.length; i++) {
      var el = i < senders.length ? senders[i] : targets[i - senders.length];
      if (!el || !el.isConnected || el.disabled || (i < senders.length && el.tabIndex < 0)) continue;
      if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus();
      if (document.activeElement === el) return;
    }
  }
  function succeeded(event) {
    var d = event.detail || {};
    if (event.type === "htmx:afterRequest" && !d.successful) return;
    for (var i = shown.length - 1; i >= 0; i--) {
      var rec = shown[i];
      if (rec.target === d.target || !rec.target.isConnected || !rec.box.isConnected) drop(rec);
    }
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:afterSwap", succeeded);
  document.addEventListener("htmx:afterRequest", succeeded);
})();

/* 7. Signed-out pages (issue 22): what a previous person left in this browser goes (changes waiting to be sent,
      courses saved for offline, the service worker). Signed-in pages: session.js, when another account's data is there. */
(function () {
  "use strict";
  var b = document.body;
  if (b.hasAttribute("data-device-key") || b.hasAttribute("data-offline-copy")) return;
  try { localStorage.removeItem("leadthe.queue"); localStorage.removeItem("leadthe.owner"); } catch (e) { /* no storage */ }
  if (window.caches) caches.delete("leadthe-offline-v1").catch(function () {});
  var sw = navigator.serviceWorker;
  if (sw && sw.getRegistrations) sw.getRegistrations().then(function (rs) { rs.forEach(function (r) { r.unregister(); }); }).catch(function () {});
})();
