/* Signed-in pages (README "Learning offline (in the browser)"): (a) the idle warning, (b) the device data of issue 22. */
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

/* (b) */
(function () {
  "use strict";
  var CACHE = "leadthe-offline-v1", QUEUE = "leadthe.queue", OWNER = "leadthe.owner";
  var body = document.body, key = body.getAttribute("data-device-key") || "";
  var copy = body.hasAttribute("data-offline-copy"), syncUrl = body.getAttribute("data-sync");
  var script = document.querySelector("script[data-logout]");
  var logoutUrl = script && script.getAttribute("data-logout");
  var store = null;
  try { store = window.localStorage; store.getItem(OWNER); } catch (e) { store = null; }
  var L = window.LeadThe = window.LeadThe || {};
  var tpl = document.getElementById("device-texts");
  var words = (tpl && tpl.content.firstElementChild) || body;
  L.text = function (name) { return words.getAttribute("data-" + name) || ""; };

  function clearAll() {
    if (store) { store.removeItem(QUEUE); store.removeItem(OWNER); }
    var sw = navigator.serviceWorker;
    return Promise.all([
      window.caches ? caches.delete(CACHE) : 0,
      sw && sw.getRegistrations ? sw.getRegistrations().then(function (rs) { return Promise.all(rs.map(function (r) { return r.unregister(); })); }) : 0
    ]).catch(function () {});
  }
  L.clearDevice = clearAll;
  var ready = Promise.resolve(), owner = store && store.getItem(OWNER);
  if (store && owner && owner !== key && !copy) ready = clearAll();
  if (!store || !key) return;
  L.own = function () { store.setItem(OWNER, key); };

  function read() {
    var q = null;
    try { q = JSON.parse(store.getItem(QUEUE)); } catch (e) { q = null; }
    return q && Array.isArray(q.items) && q.owner === key ? q : { owner: key, items: [] };
  }
  function write(q) { if (q.items.length) store.setItem(QUEUE, JSON.stringify(q)); else store.removeItem(QUEUE); }
  function changes() { return read().items.filter(function (i) { return i.kind !== "beat"; }).length; }
  var box = null, sent = false, sending = null;
  function show() {
    var n = changes();
    box = box || document.querySelector(".queue-status");
    if (!box && !n && !sent) return;
    if (!box) {
      box = document.createElement("p");
      box.className = "queue-status";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      var main = document.querySelector("main") || body;
      main.insertBefore(box, main.firstChild);
    }
    var form = "other";
    try { form = new Intl.PluralRules(document.documentElement.lang || undefined).select(n); } catch (e) { form = n === 1 ? "one" : "other"; }
    box.textContent = n ? (L.text("waiting-" + form) || L.text("waiting-other")).replace("{n}", n) : L.text("sent");
    box.hidden = !n && !sent;
  }
  function csrf(el) {
    try { return JSON.parse(el.getAttribute("data-hx-headers"))["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }
  function token() {  // an offline copy has none: the page at the same address has
    if (csrf(body)) return Promise.resolve(csrf(body));
    return fetch(location.pathname, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.ok && !r.redirected ? r.text() : "";
    }).then(function (html) {
      var b = new DOMParser().parseFromString(html, "text/html").body;
      return b && b.getAttribute("data-device-key") === key ? csrf(b) : "";
    });
  }
  function send() {
    var q = read();
    if (sending || !syncUrl || !q.items.length) return sending || Promise.resolve();
    var ids = q.items.slice(0, 200);
    sending = token().then(function (t) {
      if (!t) return;
      return fetch(syncUrl, { method: "POST", credentials: "same-origin", cache: "no-store",
                              headers: { "Content-Type": "application/json", "X-CSRFToken": t },
                              body: JSON.stringify({ owner: key, items: ids }) }).then(function (r) {
        if (r.status === 409) return write({ items: [] });  // another account's queue
        if (!r.ok || r.redirected) return;
        return r.json().then(function (data) {
          var gone = {};
          (data.done || []).concat((data.rejected || []).map(function (x) { return x.id; })).forEach(function (id) { gone[id] = 1; });
          var now = read();
          now.items = now.items.filter(function (i) { return !gone[i.id]; });
          write(now);
          sent = true;
        });
      });
    }).catch(function () {}).then(function () {
      sending = null;
      show();
      var left = read().items.length;
      if (left && left < q.items.length) return send();
    });
    return sending;
  }
  L.queue = {
    add: function (item) {
      var q = read();
      item.id = crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random();
      item.at = item.at || new Date().toISOString();
      q.items.push(item);
      write(q);
      L.own();
      sent = false;
      show();
      if (navigator.onLine !== false) setTimeout(send, 0);
      return true;
    },
    count: changes,
    has: function (kind, course, lesson) {
      return read().items.some(function (i) { return i.kind === kind && i.course === course && i.lesson === lesson; });
    },
    send: send
  };
  ready.then(function () { show(); send(); });
  window.addEventListener("online", send);
  setInterval(function () { if (navigator.onLine !== false) send(); }, 30000);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!logoutUrl || form.getAttribute("action") !== logoutUrl || form.hasAttribute("data-cleared")) return;
    var kept = store.getItem(OWNER) || (navigator.serviceWorker && navigator.serviceWorker.controller);
    store.removeItem(QUEUE);
    store.removeItem(OWNER);
    if (!kept) return;  // nothing else here: the log-out goes at once (its answer clears the rest: Clear-Site-Data)
    event.preventDefault();
    form.setAttribute("data-cleared", "");
    var go = function () { if (go) { go = null; form.submit(); } };
    clearAll().then(function () { if (go) go(); });
    setTimeout(function () { if (go) go(); }, 1500);
  }, true);
})();
