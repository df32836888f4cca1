// The new-campaign page: the audience count and the preview follow the form as the author types.
(function () {
  "use strict";
  var form = document.getElementById("author");
  if (!form) return;
  var memberSelect = document.getElementById("preview-member");
  var variantSelect = document.getElementById("preview-variant");
  var starters = JSON.parse(document.getElementById("starter-texts").textContent);
  var q = function (name) { return document.querySelector('[data-test="' + name + '"]'); };
  var timers = {};
  function later(key, fn) { clearTimeout(timers[key]); timers[key] = setTimeout(fn, 300); }
  function post(url, extra) {
    var data = new FormData(form);
    Object.keys(extra || {}).forEach(function (k) { data.set(k, extra[k]); });
    return fetch(url, {method: "POST", body: data, credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { return r.json(); });
  }
  function audience() {
    post(form.dataset.audience).then(function (a) {
      if (a.error) { q("audience-members").textContent = "–"; q("audience-reachable").textContent = "–"; return; }
      var fmt = new Intl.NumberFormat(document.documentElement.lang);
      q("audience-members").textContent = fmt.format(a.in_segment);
      q("audience-reachable").textContent = fmt.format(a.reachable);
      var chosen = memberSelect.value;
      memberSelect.innerHTML = "";
      a.members.forEach(function (m) {
        var o = document.createElement("option"); o.value = m.id; o.textContent = m.name;
        if (m.id === chosen) o.selected = true; memberSelect.appendChild(o);
      });
      preview();
    });
  }
  function preview() {
    post(form.dataset.preview, {member: memberSelect.value, variant: variantSelect.value}).then(function (p) {
      var error = q("preview-error"), warnings = q("preview-warnings");
      warnings.innerHTML = "";
      if (p.error) { error.textContent = p.error.message; error.hidden = false; return; }
      error.hidden = true;
      q("preview-subject").textContent = p.subject;
      q("preview-as").textContent = "· " + p.member.name;
      (p.warnings || []).forEach(function (w) { var li = document.createElement("li"); li.textContent = w.message; warnings.appendChild(li); });
      q("preview-desktop").srcdoc = p.document;
      q("preview-phone").srcdoc = p.document;
    });
  }
  form.addEventListener("input", function (event) {
    var name = event.target.name || "";
    if (name === "segment" || name === "channel" || name === "advertising" || name.indexOf("seg_") === 0) later("audience", audience);
    else later("preview", preview);
  });
  form.elements.segment.addEventListener("change", function () { document.getElementById("builder").hidden = this.value !== "new"; });
  form.elements.ab.addEventListener("change", function () {
    document.getElementById("variant-b").hidden = !this.checked;
    document.getElementById("preview-variant-label").hidden = !this.checked;
  });
  memberSelect.addEventListener("change", preview);
  variantSelect.addEventListener("change", preview);
  document.getElementById("starter").addEventListener("change", function () {
    var s = starters[this.value]; if (!s) return;
    var main = form.elements.locale.value, other = main === "he" ? "en" : "he";
    form.elements.subject.value = s.texts[main].subject; form.elements.body.value = s.texts[main].body;
    form.elements.other_subject.value = s.texts[other].subject; form.elements.other_body.value = s.texts[other].body;
    form.elements.advertising.checked = s.advertising;
    audience();
  });
  audience();
})();
