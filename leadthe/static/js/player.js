/* Lesson player: heartbeat for time spent, retry of "Mark as complete" on a dropped connection, focus and
   outline state after an htmx lesson swap. Progressive enhancement: the page works without it. */
(function () {
  "use strict";
  var player = document.querySelector(".player");
  if (!player) return;

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("data-hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // Time spent: a beat every 30 s while the page is visible; the server caps what each beat adds.
  var url = player.getAttribute("data-heartbeat");
  function beat() {
    if (document.visibilityState !== "visible" || !url || !window.fetch) return;
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } }).catch(function () {});
  }
  setInterval(beat, 30000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") beat(); });

  // "Mark as complete": completing is idempotent on the server, so a lost request is simply sent again.
  var delays = [2000, 4000, 8000, 15000, 30000];
  function status(form, text) {
    var s = form.querySelector(".retry-status");
    if (s) s.textContent = text;
  }
  function retry(event) {
    var form = event.detail && event.detail.elt;
    if (!form || !form.classList || !form.classList.contains("complete-form")) return;
    var n = Number(form.getAttribute("data-tries") || 0);
    var wait = delays[Math.min(n, delays.length - 1)];
    form.setAttribute("data-tries", String(n + 1));
    status(form, "The connection dropped. Trying again in " + Math.round(wait / 1000) + " s… (your progress is safe)");
    setTimeout(function () { if (document.body.contains(form)) htmx.trigger(form, "submit"); }, wait);
  }
  document.body.addEventListener("htmx:sendError", retry);
  document.body.addEventListener("htmx:timeout", retry);
  document.body.addEventListener("htmx:responseError", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.classList && form.classList.contains("complete-form")) {
      if (event.detail.xhr && event.detail.xhr.status >= 500) retry(event);
      else status(form, "That did not work. Please reload the page and try again.");
    }
  });

  // After a lesson swap: mark the current lesson in the outline and move focus to its title.
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
