/* The lesson player (README "Learning offline (in the browser)"). */
(function () {
  "use strict";
  var body = document.body, copy = body.hasAttribute("data-offline-copy");
  var player = document.querySelector(".player");
  if (!player) return;
  var L = window.LeadThe || {}, q = L.queue;
  function text(name) { return L.text ? L.text(name) : ""; }
  function csrf() {
    try { return JSON.parse(body.getAttribute("data-hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  var PATH = /^\/courses\/([^/]+)\/lessons\/([^/]+)/;
  function status(form, words) {
    var s = form.querySelector(".retry-status");
    if (!s) {
      s = form.appendChild(document.createElement("p"));
      s.className = "retry-status";
      s.setAttribute("role", "status");
    }
    s.textContent = words;
  }
  function kind(form) {
    return form && form.classList ? (form.classList.contains("complete-form") ? "complete" : form.classList.contains("answer-form") ? "answer" : "") : "";
  }
  function done(form) {
    form.querySelector("button").hidden = true;
    status(form, text("queued-complete"));
  }
  function keep(form) {  // false when it cannot be kept
    var m = PATH.exec(new URL(form.action, location.href).pathname) || [], k = kind(form);
    var item = { kind: k, course: m[1], lesson: m[2], at: form.getAttribute("data-at") || undefined };
    if (k === "answer") item.answer = (form.querySelector("textarea") || {}).value;
    if (!q || !item.course || (k === "answer" && !item.answer) || !q.add(item)) return false;
    if (k === "complete") done(form); else status(form, text("queued-answer"));
    return true;
  }
  document.addEventListener("submit", function (event) {
    if (kind(event.target)) event.target.setAttribute("data-at", new Date().toISOString());
  }, true);

  var url = player.getAttribute("data-heartbeat");
  function keepBeat() {
    var m = PATH.exec(location.pathname);
    if (q && m) q.add({ kind: "beat", course: m[1] });
  }
  function beat() {
    if (document.visibilityState !== "visible" || !window.fetch) return;
    if (copy || navigator.onLine === false) return keepBeat();
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
      .then(function (r) { if (r.status >= 500) keepBeat(); }, keepBeat);
  }
  setInterval(beat, 30000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") beat(); });

  if (copy) {  // no htmx on an offline copy
    document.querySelectorAll(".complete-form, .answer-form").forEach(function (form) {
      var m = PATH.exec(location.pathname) || [];
      if (kind(form) === "complete" && q && q.has("complete", m[1], m[2])) done(form);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!keep(form)) status(form, text("failed"));
      });
    });
    return;
  }
  function lost(event) {
    var form = event.detail.elt;
    if (kind(form) && !keep(form)) status(form, text("failed"));
  }
  body.addEventListener("htmx:beforeRequest", function (event) {
    if (kind(event.detail.elt) && navigator.onLine === false && keep(event.detail.elt)) event.preventDefault();
  });
  body.addEventListener("htmx:sendError", lost);
  body.addEventListener("htmx:timeout", lost);
  body.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (!kind(form)) return;
    if (event.detail.xhr && event.detail.xhr.status >= 500) lost(event);
    else status(form, text("failed"));
  });

  function linkLost(event) {
    var a = event.detail.elt, xhr = event.detail.xhr, nav = a && a.tagName === "A" && a.closest("nav");
    if (!nav) return;
    if ((xhr && xhr.status >= 500) || (navigator.serviceWorker && navigator.serviceWorker.controller)) return location.assign(a.href);
    var s = nav.querySelector(".retry-status") || nav.appendChild(document.createElement("p"));
    s.className = "retry-status";
    s.setAttribute("role", "alert");
    s.textContent = player.getAttribute("data-link-lost");
  }
  ["htmx:sendError", "htmx:timeout", "htmx:responseError"].forEach(function (name) { body.addEventListener(name, linkLost); });

  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "lesson-body") return;
    // completing a lesson swaps in the next one and names its address in HX-Push-Url
    var xhr = event.detail.xhr;
    var here = (xhr && xhr.getResponseHeader("HX-Push-Url")) || location.pathname;
    document.querySelectorAll(".outline a").forEach(function (a) {
      if (a.getAttribute("href") === here) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    var title = document.getElementById("lesson-title");
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var moved = event.detail.requestConfig && (event.detail.requestConfig.verb === "get" ||
      (elt && elt.classList && elt.classList.contains("complete-form")));
    if (title && moved) title.focus();
  });
})();
