/* Signed-out pages (issue 22): what a previous person left in this browser goes: courses saved for offline, changes
   waiting to be sent, the service worker. (Signed-in pages: session.js, when another account signs in.) */
(function () {
  "use strict";
  try { localStorage.removeItem("leadthe.queue"); localStorage.removeItem("leadthe.owner"); } catch (e) { /* no storage */ }
  if (window.caches) caches.delete("leadthe-offline-v1").catch(function () {});
  var sw = navigator.serviceWorker;
  if (sw && sw.getRegistrations) {
    sw.getRegistrations().then(function (regs) { regs.forEach(function (r) { r.unregister(); }); }).catch(function () {});
  }
})();
