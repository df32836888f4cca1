/* Small progressive enhancements; every page works without them.
   - form[data-confirm]: ask before sending (spending points cannot be undone by the member).
   - form[data-once]: disable its buttons once sent, so a double tap sends one request (the server is
     safe on its own: the form's token makes a repeat replay the first answer).
   - button[data-copy=ID]: copy the value of the input with that id, and say so on the button.
   - time[data-relative]: say the time as "5 minutes ago" in the page's language; the absolute time the
     server wrote (kept in caches, so it never goes stale) stays as the element's title. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-once")) {
      if (form.dataset.sent) {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      // After this event: disabling a button during its own submit would drop it from some browsers' send.
      window.setTimeout(function () {
        form.querySelectorAll("button:not([disabled])").forEach(function (button) {
          button.setAttribute("data-was-enabled", "");
          button.disabled = true;
        });
      }, 0);
    }
  });

  // Coming back with the browser's back button may restore the page as it was left: sent and disabled.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-once][data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      form.querySelectorAll("button[data-was-enabled]").forEach(function (button) {
        button.disabled = false;
      });
    });
  });

  function copied(button) {
    var label = button.textContent;
    button.textContent = button.dataset.copied || label;
    window.setTimeout(function () {
      button.textContent = label;
    }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () {
          copied(button);
        },
        function () {
          if (document.execCommand("copy")) copied(button);
        }
      );
    } else if (document.execCommand("copy")) {
      copied(button);
    }
  });
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  function sayRelative() {
    if (!window.Intl || !Intl.RelativeTimeFormat) return;
    var say = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });
    document.querySelectorAll("time[data-relative]").forEach(function (time) {
      var at = Date.parse(time.getAttribute("datetime"));
      if (isNaN(at)) return;
      if (!time.title) time.title = time.textContent.trim();
      var seconds = Math.round((at - Date.now()) / 1000);
      for (var i = 0; i < units.length; i++) {
        if (Math.abs(seconds) >= units[i][1]) {
          time.textContent = say.format(Math.round(seconds / units[i][1]), units[i][0]);
          return;
        }
      }
      time.textContent = say.format(0, "second");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", sayRelative);
  else sayRelative();
})();
