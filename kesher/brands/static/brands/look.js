// The live preview on the brand look page: colours, name and logo shown as they are typed, with the
// contrast against white text worked out the same way the server checks it (WCAG 2.1).
(function () {
  "use strict";
  var preview = document.querySelector("[data-test='look-preview']");
  if (!preview) { return; }
  function luminance(hex) {
    var parts = [1, 3, 5].map(function (at) {
      var value = parseInt(hex.substr(at, 2), 16) / 255;
      return value <= 0.04045 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2];
  }
  function ratio(hex) { return 1.05 / (luminance(hex) + 0.05); }
  function valid(hex) { return /^#[0-9a-fA-F]{6}$/.test(hex); }
  function paint() {
    ["primary_color", "accent_color"].forEach(function (name) {
      var input = document.getElementById("id_" + name);
      var note = document.querySelector("[data-contrast-for='id_" + name + "']");
      if (!input || !valid(input.value)) { if (note) { note.textContent = ""; } return; }
      var property = name === "primary_color" ? "--brand-primary" : "--brand-accent";
      preview.style.setProperty(property, input.value);
      if (name === "primary_color") { preview.style.setProperty("--accent", input.value); }
      var shown = ratio(input.value.toLowerCase()).toFixed(1);
      var template = parseFloat(shown) >= 4.5 ? preview.dataset.contrastOk : preview.dataset.contrastBad;
      if (note) { note.textContent = template.replace("{ratio}", shown); }
      var swatch = document.querySelector("[data-swatch='id_" + name + "']");
      if (swatch && swatch.value !== input.value.toLowerCase()) { swatch.value = input.value.toLowerCase(); }
    });
    var name = document.getElementById("id_name");
    if (name) {
      preview.querySelectorAll("[data-preview-name]").forEach(function (node) { node.textContent = name.value; });
    }
  }
  document.querySelectorAll("[data-swatch]").forEach(function (swatch) {
    swatch.addEventListener("input", function () {
      document.getElementById(swatch.dataset.swatch).value = swatch.value;
      paint();
    });
  });
  document.querySelectorAll("[data-preview]").forEach(function (input) { input.addEventListener("input", paint); });
  var logo = document.getElementById("id_logo");
  if (logo) {
    logo.addEventListener("change", function () {
      var image = preview.querySelector("[data-preview-logo]");
      if (logo.files && logo.files[0] && image) { image.src = URL.createObjectURL(logo.files[0]); image.hidden = false; }
    });
  }
  paint();
}());
