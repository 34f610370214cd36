/* Idle warning: two minutes before the session ends for lack of activity, a dialog offers "Stay signed in".
   Progressive enhancement: without it the session simply ends, and a form sent afterwards is kept across the
   log-in (leadthe/auth/drafts.py). The server is asked how long is left (GET /session/status, which is no
   activity) only when the end seems near, so other tabs, htmx requests and lesson heartbeats count too. */
(function () {
  "use strict";
  var body = document.body;
  var left = Number(body.getAttribute("data-session-left"));
  var statusUrl = body.getAttribute("data-session-status");
  var refreshUrl = body.getAttribute("data-session-refresh");
  var tpl = document.getElementById("idle-warning");
  if (!statusUrl || !refreshUrl || !tpl || !window.fetch || !isFinite(left)) return;

  var WARN = 120 * 1000;  // warn this long before the end
  var deadline = Date.now() + left * 1000;
  var dialog = null, opener = null, state = "", checking = false, lastCheck = 0;

  function csrf() {
    try { return JSON.parse(body.getAttribute("data-hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function clock(ms) {
    try {
      return new Date(ms).toLocaleTimeString(document.documentElement.lang || undefined, { hour: "2-digit", minute: "2-digit" });
    } catch (e) { return new Date(ms).toTimeString().slice(0, 5); }
  }
  function build() {
    if (dialog) return dialog;
    dialog = tpl.content.firstElementChild.cloneNode(true);
    body.appendChild(dialog);
    dialog.querySelector("[data-stay]").addEventListener("click", stay);
    dialog.querySelector("[data-close]").addEventListener("click", hide);
    dialog.addEventListener("cancel", function () { state = "dismissed"; });
    dialog.addEventListener("close", function () { if (opener && opener.focus) opener.focus(); });
    return dialog;
  }
  function say(kind, ms) {
    var text = dialog.querySelector("#idle-text");
    text.textContent = (text.getAttribute("data-" + kind) || "").replace("{time}", clock(ms));
    dialog.querySelector("[data-stay]").hidden = kind === "ended" || kind === "final";
  }
  function show(kind, ms) {
    build();
    say(kind, ms);
    state = kind;
    if (!dialog.open) {
      opener = document.activeElement;
      if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    }
    var button = dialog.querySelector(kind === "soon" ? "[data-stay]" : "[data-close]");
    if (button) button.focus();
  }
  function hide() {
    if (!dialog || !dialog.open) return;
    if (state === "soon") state = "dismissed";
    if (dialog.close) { dialog.close(); } else { dialog.removeAttribute("open"); }
  }
  function answer(response) {
    if (!response.ok || response.redirected) throw new Error("ended");
    return response.json();
  }
  function update(data) {
    var now = Date.now();
    deadline = now + Number(data.left) * 1000;
    if (deadline - now > WARN) {
      state = "";
      hide();
    } else if (state !== "dismissed" && state !== "final") {
      var idleEnd = now + Number(data.idle) * 1000;
      show(data.idle != null && idleEnd > deadline + 1000 ? "final" : "soon", deadline);
    }
  }
  function ended() {
    deadline = Infinity;
    show("ended", Date.now());
  }
  function check(now) {
    if (checking || state === "ended" || Date.now() < deadline - WARN - 5000) return;
    // inside the last two minutes ask at most every 15 s; just before them, at each tick, so the warning
    // comes when it is due (the server's answer may move the deadline a little)
    if (!now && Date.now() >= deadline - WARN && Date.now() - lastCheck < 15000) return;
    checking = true;
    lastCheck = Date.now();
    fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(answer).then(update, function (err) { if (err && err.message === "ended") ended(); })
      .then(function () { checking = false; }, function () { checking = false; });
  }
  function stay() {
    fetch(refreshUrl, { method: "POST", credentials: "same-origin", cache: "no-store",
                        headers: { Accept: "application/json", "X-CSRFToken": csrf() } })
      .then(answer).then(function (data) { hide(); state = ""; update(data); },
                         function (err) { if (err && err.message === "ended") { ended(); } else { say("failed", Date.now()); } });
  }

  setInterval(function () { check(false); }, 5000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") check(true); });
})();

/* (c) Requests that do not get through (issue 22). When an htmx request fails (htmx:sendError, htmx:timeout, or
   htmx:responseError with status 0 or 5xx), htmx changes nothing, so the page and what was typed stay. A message
   in place (top of the target; after it when the target is a form or cannot hold it) says so, with "Try again":
   the same form sent with the same button, or the same address into the same target. One message per target:
   another failure updates it (and announces it again); the next successful answer for that target removes it.
   Focus is only moved when it was lost. The lesson's complete/answer forms are player.js's. Words come from
   <template id="net-error"> in base.html; without JavaScript, none of this exists. */
(function () {
  "use strict";
  var tpl = document.getElementById("net-error");
  if (!tpl || !tpl.content || !document.addEventListener) return;
  var OWN = ".complete-form, .answer-form";
  var AFTER = /^(FORM|TABLE|THEAD|TBODY|TFOOT|TR|UL|OL|DL|SELECT|INPUT|TEXTAREA|BUTTON|A|IMG|SPAN|LABEL)$/;
  var shown = [];  // {box, text, target, elt, verb, path, submitter, kept, retrying}
  var submitters = typeof WeakMap === "function" ? new WeakMap() : null;

  // the button that sent each form, to send it again the same way (its name and value go with it)
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
    if (event.type === "htmx:responseError" && status !== 0 && status < 500) return;  // refusals have their own pages
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
    say(rec, event.type === "htmx:sendError" || status === 0 ? "offline" : "server");
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
      // a click on the same button (not requestSubmit(button)): htmx learns which button sent the form only
      // from a click on it, and sends its name and value only then
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
    // "Try again" is gone: put focus back on what sent the request, else on the (new) target
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
