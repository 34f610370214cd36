/* Service worker for courses saved for offline (issue 22). It exists only after someone saved a course
   (static/js/offline.js), and is removed with the last saved course, at log-out and when another person logs in
   (static/js/session.js). What it does:
   - a real lesson address of a saved course: network first (at most 4 s; none when the browser knows it is
     offline); without a network, the saved offline copy (no
     personal data: see courses/offline_lesson.html); online, the copy is checked in the background
     (If-None-Match) and replaced when the lesson changed;
   - any other page without a network: a small fallback page listing the saved courses;
   - static files and lesson pictures that were saved with a course: from the cache first.
   It never stores a page on its own accord, never one marked no-store, and never touches anything but GET. */
"use strict";

var CACHE = "leadthe-offline-v1";
var META = "/__offline__/courses/";
var FALLBACK = "/__offline__/fallback";
var LESSON = /^\/courses\/[^/]+\/lessons\/[^/]+$/;
var WAIT = 4000;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "clear") event.waitUntil(caches.delete(CACHE));
});

function storable(response) {
  var cc = (response.headers.get("Cache-Control") || "").toLowerCase();
  return response.status === 200 && !response.redirected && cc.indexOf("no-store") === -1;
}

function revalidate(key, cached) {
  var headers = {};
  var etag = cached.headers.get("ETag");
  if (etag) headers["If-None-Match"] = etag;
  return fetch(key, { credentials: "same-origin", cache: "no-store", headers: headers, redirect: "manual" })
    .then(function (response) {
      if (!storable(response)) return;
      return caches.open(CACHE).then(function (cache) { return cache.put(key, response); });
    }).catch(function () {});
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}

function savedCourses(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.filter(function (r) { return new URL(r.url).pathname.indexOf(META) === 0; })
      .map(function (r) { return cache.match(r).then(function (m) { return m.json(); }).catch(function () { return null; }); }));
  }).then(function (list) { return list.filter(Boolean); });
}

function fallback() {
  return caches.has(CACHE).then(function (has) {
    if (!has) return Response.error();
    return caches.open(CACHE).then(function (cache) {
      return cache.match(FALLBACK).then(function (shell) {
        if (!shell) return Response.error();
        return Promise.all([shell.text(), savedCourses(cache)]).then(function (got) {
          var items = got[1].map(function (c) {
            var first = c.lessons && c.lessons.length ? String(c.lessons[0]).replace(/\/offline$/, "") : c.url;
            return '<li><a href="' + escapeHtml(first) + '">' + escapeHtml(c.title) + "</a></li>";
          }).join("");
          return new Response(got[0].replace("<!--saved-courses-->", items), {
            status: 200,
            headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                       "Content-Security-Policy": shell.headers.get("X-Page-CSP") || "default-src 'self'" }
          });
        });
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    if (LESSON.test(url.pathname)) {
      var key = url.origin + url.pathname + "/offline";
      event.respondWith(caches.match(key, { cacheName: CACHE }).then(function (cached) {
        // no network at all: the saved copy at once; a network that does not answer (a train, a shared line):
        // the saved copy after WAIT ms (the page from the network is then not waited for)
        if (cached && self.navigator.onLine === false) return cached;
        var network = fetch(request).then(function (response) {
          if (cached && response.ok && !response.redirected) {
            try { event.waitUntil(revalidate(key, cached)); } catch (e) { revalidate(key, cached); }  // answered already
          }
          return response;
        }, function () {
          return cached || fallback();
        });
        if (!cached) return network;
        return Promise.race([network, new Promise(function (resolve) { setTimeout(function () { resolve(cached); }, WAIT); })]);
      }));
      return;
    }
    event.respondWith(fetch(request).catch(fallback));
    return;
  }

  if (url.pathname.indexOf("/static/") === 0 || request.destination === "image") {
    event.respondWith(caches.match(request, { cacheName: CACHE }).then(function (hit) { return hit || fetch(request); }));
  }
});
