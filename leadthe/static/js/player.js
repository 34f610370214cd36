/* Lesson player: heartbeat for time spent, "Mark as complete" and "Save my answer" kept on this device when the
   connection drops (sent later by session.js, window.LeadThe.queue), focus and outline state after an htmx lesson
   swap. On an offline copy of a lesson (body[data-offline-copy], served by static/js/sw.js) the forms are always
   kept on the device. Progressive enhancement: the page works without it. */
(function () {
  "use strict";
  var body = document.body;
  var offlineCopy = body.hasAttribute("data-offline-copy");
  var player = document.querySelector(".player");
  if (!player && !offlineCopy) return;

  function queue() { return window.LeadThe && window.LeadThe.queue; }
  function text(name) { return window.LeadThe && window.LeadThe.text ? window.LeadThe.text(name) : ""; }
  function csrf() {
    try { return JSON.parse(body.getAttribute("data-hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  var PATH = /^\/courses\/([^/]+)\/lessons\/([^/]+)/;
  function where(form) {
    var m = PATH.exec(new URL(form.getAttribute("action") || location.pathname, location.href).pathname) || PATH.exec(location.pathname) || [];
    return { course: form.getAttribute("data-course") || m[1], lesson: form.getAttribute("data-lesson") || m[2] };
  }
  function status(form, words) {
    var s = form.querySelector(".retry-status");
    if (!s) {
      s = document.createElement("p");
      s.className = "retry-status";
      s.setAttribute("role", "status");
      s.setAttribute("aria-live", "polite");
      form.appendChild(s);
    }
    s.textContent = words;
  }
  function isComplete(form) { return form.classList.contains("complete-form"); }
  function isAnswer(form) { return form.classList.contains("answer-form"); }
  function shownDone(form) {
    var button = form.querySelector("button");
    if (button) button.hidden = true;
    form.classList.add("queued");
    status(form, text("queued-complete"));
  }
  // Keep a completion or an answer on this device, with the time of the click; false when it cannot be kept.
  function keep(form) {
    var q = queue(), at = form.getAttribute("data-at") || new Date().toISOString(), place = where(form);
    if (!q || !place.course || !place.lesson) return false;
    if (isComplete(form)) {
      if (!q.add({ kind: "complete", course: place.course, lesson: place.lesson, at: at })) return false;
      shownDone(form);
      return true;
    }
    var field = form.querySelector("textarea[name=answer]");
    if (!field || !field.value.trim()) return false;
    if (!q.add({ kind: "answer", course: place.course, lesson: place.lesson, at: at, answer: field.value })) return false;
    status(form, text("queued-answer"));
    return true;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.classList && (isComplete(form) || isAnswer(form))) form.setAttribute("data-at", new Date().toISOString());
  }, true);

  // Time spent: a beat every 30 s while the page is visible; the server caps what each beat adds. A beat that
  // does not get through (and every beat on an offline copy) is kept on the device with its time.
  var url = player && player.getAttribute("data-heartbeat");
  var here = PATH.exec(location.pathname);
  var tagged = document.querySelector("form[data-course]");
  var beatCourse = tagged ? tagged.getAttribute("data-course") : here && here[1];
  function keepBeat() { if (queue() && beatCourse) queue().add({ kind: "beat", course: beatCourse }); }
  function beat() {
    if (document.visibilityState !== "visible" || !window.fetch) return;
    if (offlineCopy || !url || navigator.onLine === false) { keepBeat(); return; }
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } })
      .then(function (r) { if (r.status >= 500) keepBeat(); }, keepBeat);
  }
  setInterval(beat, 30000);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") beat(); });

  if (offlineCopy) {
    // no htmx here: the forms are always kept on the device
    document.querySelectorAll("form.complete-form, form.answer-form").forEach(function (form) {
      var place = where(form);
      if (isComplete(form) && queue() && queue().has("complete", place.course, place.lesson)) shownDone(form);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!keep(form) && isComplete(form)) status(form, text("failed"));
      });
    });
    return;
  }

  // With htmx: a request that cannot get through keeps the change on the device instead.
  function formOf(event) {
    var form = event.detail && event.detail.elt;
    return form && form.classList && (isComplete(form) || isAnswer(form)) ? form : null;
  }
  function lost(event) {
    var form = formOf(event);
    if (form && !keep(form)) status(form, text("failed"));
  }
  body.addEventListener("htmx:beforeRequest", function (event) {
    var form = formOf(event);
    if (form && navigator.onLine === false && keep(form)) event.preventDefault();
  });
  body.addEventListener("htmx:sendError", lost);
  body.addEventListener("htmx:timeout", lost);
  body.addEventListener("htmx:responseError", function (event) {
    var form = formOf(event);
    if (!form) return;
    if (event.detail.xhr && event.detail.xhr.status >= 500) lost(event);
    else status(form, text("failed"));
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
