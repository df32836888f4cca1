/* The program editor's live preview: as staff type a rule, reward or tier, ask the server what it would do
   (form[data-preview] → its preview box). Without this script the page still shows the saved preview. */
(function () {
  "use strict";
  var timers = new WeakMap();

  function refresh(form) {
    var target = document.getElementById(form.dataset.previewTarget);
    if (!target) return;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") params.append(name, value);
    });
    if (form.dataset.previewRow) params.set("row", form.dataset.previewRow);
    fetch(form.dataset.preview + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          target.innerHTML = html;
          target.dataset.updated = String(Date.now());
        }
      })
      .catch(function () {});
  }

  function changed(event) {
    var form = event.target instanceof Element ? event.target.closest("form[data-preview]") : null;
    if (!form) return;
    window.clearTimeout(timers.get(form));
    timers.set(form, window.setTimeout(function () { refresh(form); }, 250));
  }

  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
})();
