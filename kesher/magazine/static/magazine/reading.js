/* The magazine's reading beacon, first-party and static (no inline script): for a club member reading an
   article, how long the page was visible and how far down the article they read are sent when the page is
   hidden or left (navigator.sendBeacon, a form post carrying the page's CSRF token). Each page view has
   its own reading id, so the server keeps one reading however many beacons it gets. */
(function () {
  "use strict";

  var article = document.querySelector("[data-reading-url]");
  if (!article || !navigator.sendBeacon || !window.FormData) return;

  var visibleMs = 0;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var depth = 0;
  var lastSent = "";

  function measure() {
    var box = article.getBoundingClientRect();
    var seen = (window.innerHeight || document.documentElement.clientHeight) - box.top;
    var percent = box.height > 0 ? Math.round((100 * seen) / box.height) : 100;
    depth = Math.max(depth, Math.min(100, Math.max(0, percent)));
  }

  function seconds() {
    var ms = visibleMs + (visibleSince === null ? 0 : Date.now() - visibleSince);
    return Math.round(ms / 1000);
  }

  function send() {
    measure();
    var now = seconds() + ":" + depth;
    if (now === lastSent) return; // nothing new since the last beacon
    var data = new FormData();
    data.append("csrfmiddlewaretoken", article.dataset.csrf || "");
    data.append("article", article.dataset.articleId || "");
    data.append("reading", article.dataset.readingId || "");
    data.append("seconds", String(seconds()));
    data.append("scroll", String(depth));
    if (navigator.sendBeacon(article.dataset.readingUrl, data)) lastSent = now;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (visibleSince !== null) {
        visibleMs += Date.now() - visibleSince;
        visibleSince = null;
      }
      send();
    } else if (visibleSince === null) {
      visibleSince = Date.now();
    }
  });
  window.addEventListener("pagehide", send);
  window.addEventListener("scroll", measure, { passive: true });
  window.addEventListener("resize", measure, { passive: true });
  measure();
})();
