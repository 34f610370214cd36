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

/* ===== (b) Device data (issue 22; helper "client") =====================================================
   What this browser keeps for the person signed in: courses saved for offline (Cache Storage
   "leadthe-offline-v1", written by static/js/offline.js, served by static/js/sw.js) and the changes made
   without a connection (localStorage "leadthe.queue"), both tied to one account by its pseudonymous device key
   (localStorage "leadthe.owner", <body data-device-key>). Another account, a signed-out page or logging out
   removes all of it. window.LeadThe.queue {add, count, send} is used by player.js; the texts come from
   <template id="device-texts"> (courses/_device_texts.html). Without JavaScript nothing is stored. */
(function () {
  "use strict";
  var CACHE = "leadthe-offline-v1", QUEUE = "leadthe.queue", OWNER = "leadthe.owner";
  var META = "/__offline__/courses/";
  var body = document.body;
  var key = body.getAttribute("data-device-key") || "";
  var offlineCopy = body.hasAttribute("data-offline-copy");
  var syncUrl = body.getAttribute("data-sync");
  var script = document.querySelector("script[data-sw]");
  var swUrl = script && script.getAttribute("data-sw");
  var logoutUrl = script && script.getAttribute("data-logout");
  var store = null;
  try { store = window.localStorage; store.getItem(OWNER); } catch (e) { store = null; }
  var LeadThe = window.LeadThe = window.LeadThe || {};

  function texts() {
    var tpl = document.getElementById("device-texts");
    return (tpl && tpl.content && tpl.content.firstElementChild) || document.createElement("span");
  }
  var words = texts();
  LeadThe.text = function (name) { return words.getAttribute("data-" + name) || ""; };
  LeadThe.plural = function (name, n) {
    var form = "other";
    try { form = new Intl.PluralRules(document.documentElement.lang || undefined).select(n); } catch (e) { form = n === 1 ? "one" : "other"; }
    return (words.getAttribute("data-" + name + "-" + form) || words.getAttribute("data-" + name + "-other") || "").replace("{n}", String(n));
  };

  // --- everything of the previous owner goes ---------------------------------------------------------
  function unregister() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.getRegistrations) return Promise.resolve();
    return navigator.serviceWorker.getRegistrations().then(function (regs) {
      return Promise.all(regs.map(function (r) { return r.unregister(); }));
    }).catch(function () {});
  }
  function clearAll() {
    if (store) { store.removeItem(QUEUE); store.removeItem(OWNER); }
    var jobs = [unregister()];
    if (window.caches) jobs.push(caches.delete(CACHE).catch(function () {}));
    return Promise.all(jobs);
  }
  LeadThe.clearDevice = clearAll;

  var ready = Promise.resolve();
  if (store) {
    var owner = store.getItem(OWNER);
    if (key && owner !== key) {
      ready = clearAll().then(function () { store.setItem(OWNER, key); });
    } else if (!key && !offlineCopy && (owner || store.getItem(QUEUE))) {
      ready = clearAll();
    } else if (!key && !offlineCopy && window.caches) {
      ready = caches.has(CACHE).then(function (has) { if (has) return clearAll(); });
    }
  }
  LeadThe.deviceReady = ready;

  // --- the queue of changes made without a connection --------------------------------------------------
  function read() {
    var q = null;
    try { q = JSON.parse(store.getItem(QUEUE)); } catch (e) { q = null; }
    var me = store.getItem(OWNER) || key;
    if (!q || !Array.isArray(q.items) || q.owner !== me) q = { owner: me, items: [] };
    return q;
  }
  function write(q) {
    if (q.items.length) store.setItem(QUEUE, JSON.stringify(q)); else store.removeItem(QUEUE);
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var statusEl = null, sending = null, justSent = false;
  function statusBox() {
    if (statusEl && document.body.contains(statusEl)) return statusEl;
    statusEl = document.querySelector(".queue-status");
    if (!statusEl) {
      var main = document.querySelector("main") || body;
      statusEl = document.createElement("p");
      statusEl.className = "queue-status";
      statusEl.setAttribute("role", "status");
      statusEl.setAttribute("aria-live", "polite");
      statusEl.hidden = true;
      main.insertBefore(statusEl, main.firstChild);
    }
    return statusEl;
  }
  function show() {
    if (!store) return;
    var n = read().items.length;
    if (!n && !justSent) { if (statusEl) statusEl.hidden = true; return; }
    var box = statusBox();
    box.textContent = n ? LeadThe.plural("waiting", n) : LeadThe.text("sent");
    box.hidden = false;
  }
  function csrf(doc) {
    try { return JSON.parse(doc.getAttribute("data-hx-headers"))["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function token() {
    var own = csrf(body);
    if (own) return Promise.resolve(own);
    // an offline copy carries no token: a fresh page of the same address (signed in) has one
    return fetch(location.pathname, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok || r.redirected) return "";
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        return doc.body && doc.body.getAttribute("data-device-key") === read().owner ? csrf(doc.body) : "";
      });
    });
  }
  function send() {
    if (!store || !syncUrl || !window.fetch) return Promise.resolve();
    if (sending) return sending;
    var q = read();
    if (!q.items.length || !q.owner) { show(); return Promise.resolve(); }
    var batch = q.items.slice(0, 200);
    sending = token().then(function (csrfToken) {
      if (!csrfToken) return;
      return fetch(syncUrl, {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify({ owner: q.owner, items: batch })
      }).then(function (r) {
        if (r.status === 409) { store.removeItem(QUEUE); return; }  // the queue belongs to someone else
        if (!r.ok || r.redirected) return;
        return r.json().then(function (data) {
          var gone = {};
          (data.done || []).forEach(function (id) { gone[id] = true; });
          (data.rejected || []).forEach(function (x) { if (x && x.id) gone[x.id] = true; });
          var now = read();
          now.items = now.items.filter(function (item) { return !gone[item.id]; });
          write(now);
          justSent = true;
        });
      });
    }).catch(function () {}).then(function () {
      sending = null;
      show();
      if (read().items.length < q.items.length && read().items.length) return send();
    });
    return sending;
  }
  LeadThe.queue = {
    add: function (item) {
      if (!store || !(key || store.getItem(OWNER))) return false;
      var q = read();
      item.id = item.id || uuid();
      item.at = item.at || new Date().toISOString();
      q.items.push(item);
      write(q);
      justSent = false;
      show();
      if (navigator.onLine !== false) setTimeout(send, 0);
      return true;
    },
    count: function () { return store ? read().items.length : 0; },
    has: function (kind, course, lesson) {
      return store ? read().items.some(function (i) { return i.kind === kind && i.course === course && i.lesson === lesson; }) : false;
    },
    send: send
  };

  // --- when to send: on load, when the connection returns, every 30 s while something waits ------------
  if (store) {
    ready.then(function () { show(); if (navigator.onLine !== false) send(); });
    window.addEventListener("online", function () { send(); });
    setInterval(function () { if (read().items.length && navigator.onLine !== false) send(); }, 30000);
  }

  // --- logging out: clear first, so that a log-out without a connection still clears ---------------------
  if (logoutUrl) {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form || form.getAttribute("action") !== logoutUrl || form.hasAttribute("data-cleared")) return;
      event.preventDefault();
      form.setAttribute("data-cleared", "");
      var done = false;
      function go() { if (!done) { done = true; form.submit(); } }
      clearAll().then(go, go);
      setTimeout(go, 1500);
    }, true);
  }

  // --- the service worker exists only while a course is saved on this device ---------------------------
  LeadThe.registerWorker = function () {
    if (!swUrl || !navigator.serviceWorker || !window.caches) return Promise.resolve(null);
    return navigator.serviceWorker.register(swUrl, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).catch(function () { return null; });
  };
  LeadThe.savedCourses = function () {
    if (!window.caches) return Promise.resolve([]);
    return caches.has(CACHE).then(function (has) {
      if (!has) return [];
      return caches.open(CACHE).then(function (cache) {
        return cache.keys().then(function (reqs) {
          return Promise.all(reqs.filter(function (r) { return new URL(r.url).pathname.indexOf(META) === 0; })
            .map(function (r) { return cache.match(r).then(function (m) { return m.json(); }).catch(function () { return null; }); }));
        });
      });
    }).then(function (list) { return list.filter(Boolean); }, function () { return []; });
  };
  if (key && swUrl && navigator.serviceWorker && !navigator.serviceWorker.controller) {
    ready.then(LeadThe.savedCourses).then(function (list) { if (list.length) LeadThe.registerWorker(); });
  }
})();
/* ===== end of (b) device data ======================================================================== */
