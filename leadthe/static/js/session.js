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
