/* Saving courses for offline (issue 22): the panel on a course page (.offline-panel) and the page
   "Saved for offline" (.saved-offline). Course page and saved page only; the lesson page does not load it.
   The lessons' offline copies (courses/offline_lesson.html, nothing personal in them), their static files, a small
   fallback page and one metadata entry per course go into the cache "leadthe-offline-v1"; the service worker
   (static/js/sw.js) is registered once a course is saved and removed with the last one. The words come from the
   templates (data attributes and <template>s). Without JavaScript, or without service workers, the panel stays
   hidden and the saved page explains that saving needs a browser with JavaScript. */
(function () {
  "use strict";
  var CACHE = "leadthe-offline-v1", META = "/__offline__/courses/", FALLBACK = "/__offline__/fallback";
  var L = window.LeadThe;
  var body = document.body;
  var supported = !!(L && L.queue && navigator.serviceWorker && window.caches && window.fetch);
  var lang = document.documentElement.lang || undefined;
  var script = document.querySelector("script[data-sw]");

  // the service worker exists only while a course is saved here (removed with the last one, and by session.js)
  function register() {
    return navigator.serviceWorker.register(script.getAttribute("data-sw"), { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; });
  }
  function savedCourses() {
    return caches.has(CACHE).then(function (has) {
      if (!has) return [];
      return caches.open(CACHE).then(function (cache) {
        return cache.keys().then(function (reqs) {
          return Promise.all(reqs.filter(function (r) { return new URL(r.url).pathname.indexOf(META) === 0; })
            .map(function (r) { return cache.match(r).then(function (m) { return m.json(); }).catch(function () { return null; }); }));
        });
      });
    }).then(function (list) { return list.filter(Boolean); }, function () { return []; });
  }
  if (supported) {
    savedCourses().then(function (list) { if (list.length && !navigator.serviceWorker.controller) register().catch(function () {}); });
  }

  function fill(text, vars) {
    return String(text || "").replace(/\{(\w+)\}/g, function (all, name) { return name in vars ? vars[name] : all; });
  }
  function size(bytes) {
    var kb = bytes / 1024;
    if (kb < 1000) return Math.max(1, Math.round(kb)).toLocaleString(lang) + " KB";
    return (kb / 1024).toLocaleString(lang, { maximumFractionDigits: 1 }) + " MB";
  }
  function day(iso) {
    try { return new Date(iso).toLocaleDateString(lang, { day: "numeric", month: "long", year: "numeric" }); }
    catch (e) { return String(iso).slice(0, 10); }
  }
  function metaKey(slug) { return META + encodeURIComponent(slug); }
  function readMeta(slug) {
    return caches.has(CACHE).then(function (has) {
      if (!has) return null;
      return caches.match(metaKey(slug), { cacheName: CACHE }).then(function (r) { return r ? r.json() : null; });
    }).catch(function () { return null; });
  }
  function manifest(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok || r.redirected) throw new Error("manifest"); return r.json(); });
  }
  function storable(r) {
    return r.ok && !r.redirected && (r.headers.get("Cache-Control") || "").toLowerCase().indexOf("no-store") === -1;
  }
  // Fetch one address and keep it; resolves to {bytes, csp}.
  function keep(cache, url) {
    return fetch(url, { credentials: "same-origin", cache: "no-cache" }).then(function (r) {
      if (!storable(r)) throw new Error("not storable: " + url);
      var copy = r.clone();
      return Promise.all([r.blob(), cache.put(url, copy)]).then(function (got) {
        return { bytes: got[0].size, csp: r.headers.get("Content-Security-Policy"), blob: got[0] };
      });
    });
  }
  // the pictures of a lesson's offline copy (from this site only: the CSP shows no other); sw.js serves /static/
  // from the cache, and any other picture it finds there
  function pictures(cache, blob) {
    return blob.text().then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html"), urls = [];
      doc.querySelectorAll("article img[src]").forEach(function (img) {
        var u = new URL(img.getAttribute("src"), location.href);
        if (u.origin === location.origin && urls.indexOf(u.href) === -1) urls.push(u.href);
      });
      return Promise.all(urls.map(function (u) {
        return cache.match(u).then(function (hit) { return hit ? { bytes: 0 } : keep(cache, u); }).then(function (got) { return { url: u, bytes: got.bytes }; });
      }));
    });
  }
  function shell(tpl, css, csp) {
    var title = (tpl.content.querySelector("h1") || { textContent: "LeadThe.AI" }).textContent;
    var esc = function (s) { return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); };
    var html = "<!doctype html><html lang=\"" + esc(lang || "en") + "\"><head><meta charset=\"utf-8\">" +
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" + esc(title) + " · LeadThe.AI</title>" +
      (css ? "<link rel=\"stylesheet\" href=\"" + esc(css) + "\">" : "") + "</head><body data-offline-copy>" +
      tpl.innerHTML + "</body></html>";
    var headers = { "Content-Type": "text/html; charset=utf-8" };
    if (csp) headers["X-Page-CSP"] = csp;
    return new Response(html, { headers: headers });
  }
  function removeCourse(slug) {
    return Promise.all([readMeta(slug), savedCourses()]).then(function (got) {
      var meta = got[0], kept = [];
      if (!meta) return;
      got[1].forEach(function (c) { if (c.slug !== slug) kept = kept.concat(c.images || []); });
      var gone = (meta.lessons || []).concat((meta.images || []).filter(function (u) { return kept.indexOf(u) === -1; }));
      return caches.open(CACHE).then(function (cache) {
        return Promise.all(gone.map(function (u) { return cache.delete(u); }))
          .then(function () { return cache.delete(metaKey(slug)); });
      });
    }).then(savedCourses).then(function (left) { if (!left.length) return removeAll(); });
  }
  function removeAll() {
    var jobs = [caches.delete(CACHE)];
    if (navigator.serviceWorker.getRegistrations) {
      jobs.push(navigator.serviceWorker.getRegistrations().then(function (regs) {
        return Promise.all(regs.map(function (r) { return r.unregister(); }));
      }));
    }
    return Promise.all(jobs).catch(function () {});
  }
  // a <form data-confirm> is confirmed by app.js's dialog first; then it comes here
  function onConfirmed(form, action) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var confirmed = form.querySelector("input[name=confirmed]");
      if (confirmed) confirmed.remove();
      action();
    });
  }

  // --- the panel on a course page -----------------------------------------------------------------------
  var panel = document.querySelector(".offline-panel");
  if (panel && supported) {
    var slug = panel.getAttribute("data-slug");
    var state = panel.querySelector(".offline-state");
    var bar = panel.querySelector("progress");
    var saveButton = panel.querySelector("[data-save]");
    var updateButton = panel.querySelector("[data-update]");
    var removeForm = panel.querySelector("form.offline-remove");
    var current = null, busy = false;
    var say = function (name, vars) { state.textContent = fill(panel.getAttribute("data-" + name), vars || {}); };

    var show = function () {
      return readMeta(slug).then(function (meta) {
        panel.hidden = false;
        bar.hidden = !busy;
        if (meta) {
          say("saved", { date: day(meta.saved_at), size: size(meta.bytes) });
          var changed = current && current.version !== meta.version;
          if (changed) state.textContent += " " + panel.getAttribute("data-changed");
          saveButton.hidden = true;
          updateButton.hidden = !changed;
          removeForm.hidden = false;
        } else {
          if (current) say("about", { size: size(current.bytes) }); else state.textContent = "";
          saveButton.hidden = !current;
          updateButton.hidden = true;
          removeForm.hidden = true;
        }
      });
    };
    var save = function () {
      if (busy || !current) return;
      busy = true;
      var m = current, total = m.lessons.length, bytes = 0, csp = null, images = [];
      saveButton.disabled = updateButton.disabled = true;
      bar.max = total || 1;
      bar.value = 0;
      bar.hidden = false;
      say("saving", { n: 0, total: total });
      readMeta(slug).then(function (before) {
        return caches.open(CACHE).then(function (cache) {
          var chain = Promise.resolve();
          m.lessons.forEach(function (lesson, i) {
            chain = chain.then(function () { return keep(cache, lesson.offline_url); }).then(function (got) {
              bytes += got.bytes;
              csp = csp || got.csp;
              return pictures(cache, got.blob);
            }).then(function (pics) {
              pics.forEach(function (p) { bytes += p.bytes; if (images.indexOf(p.url) === -1) images.push(p.url); });
              bar.value = i + 1;
              say("saving", { n: i + 1, total: total });
            });
          });
          (m.assets || []).forEach(function (url) {
            chain = chain.then(function () {
              return cache.match(url).then(function (hit) {
                if (hit) return hit.blob().then(function (b) { bytes += b.size; });
                return keep(cache, url).then(function (got) { bytes += got.bytes; });
              });
            });
          });
          return chain.then(function () {
            var tpl = document.getElementById("offline-fallback");
            var css = (m.assets || []).filter(function (u) { return /\.css(\?|$)/.test(u); })[0];
            var urls = m.lessons.map(function (l) { return l.offline_url; });
            var stale = ((before && before.lessons) || []).filter(function (u) { return urls.indexOf(u) === -1; });
            return Promise.all(stale.map(function (u) { return cache.delete(u); })).then(function () {
              return tpl ? cache.put(FALLBACK, shell(tpl, css, csp)) : null;
            }).then(function () {
              var meta = { slug: m.slug, title: m.title, url: m.url, saved_at: new Date().toISOString(), bytes: bytes,
                           lessons: urls, images: images, version: m.version };
              return cache.put(metaKey(slug), new Response(JSON.stringify(meta), { headers: { "Content-Type": "application/json" } }));
            });
          }, function (err) {
            // nothing half-saved stays behind for a course that was not saved before
            if (!before) return Promise.all(m.lessons.map(function (l) { return cache.delete(l.offline_url); })).then(function () { throw err; });
            throw err;
          });
        });
      }).then(function () {
        if (window.LeadThe && window.LeadThe.own) window.LeadThe.own();  // whose data this is (session.js)
        return register();
      }).then(function () {
        busy = false;
        return show();
      }, function () {
        busy = false;
        return show().then(function () { say("failed"); });
      }).then(function () {
        saveButton.disabled = updateButton.disabled = false;
        bar.hidden = true;
      });
    };
    saveButton.addEventListener("click", save);
    updateButton.addEventListener("click", save);
    onConfirmed(removeForm, function () {
      removeCourse(slug).then(show).then(function () { say("removed"); if (current) state.textContent += " " + fill(panel.getAttribute("data-about"), { size: size(current.bytes) }); });
    });
    show().then(function () {
      return manifest(panel.getAttribute("data-manifest")).then(function (m) { current = m; return show(); }, function () {});
    });
  }

  // --- the page "Saved for offline" ----------------------------------------------------------------------
  var page = document.querySelector(".saved-offline");
  if (page && supported) {
    var list = page.querySelector(".saved-list");
    var none = page.querySelector(".saved-none");
    var everything = page.querySelector("form.remove-everything");
    var itemTpl = document.getElementById("saved-item");
    page.querySelector(".no-support").hidden = true;
    var draw = function () {
      return savedCourses().then(function (courses) {
        courses.sort(function (a, b) { return String(a.title).localeCompare(String(b.title), lang); });
        list.textContent = "";
        courses.forEach(function (c) {
          var li = itemTpl.content.firstElementChild.cloneNode(true);
          var link = li.querySelector("a");
          link.href = c.url;
          link.textContent = c.title;
          var meta = li.querySelector(".meta");
          meta.textContent = fill(meta.getAttribute("data-text"), { date: day(c.saved_at), size: size(c.bytes) });
          var form = li.querySelector("form");
          form.setAttribute("data-confirm", fill(form.getAttribute("data-confirm"), { title: c.title }));
          form.querySelector("button .visually-hidden").textContent = " " + c.title;
          onConfirmed(form, function () { removeCourse(c.slug).then(draw); });
          list.appendChild(li);
        });
        list.hidden = !courses.length;
        none.hidden = !!courses.length;
        everything.hidden = !courses.length;
      });
    };
    onConfirmed(everything, function () { removeAll().then(draw); });
    draw();
  }
})();
