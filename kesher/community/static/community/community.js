// "Already asked?": while a member types a question title, fetch similar questions (a server-rendered list).
(function () {
  "use strict";
  var title = document.querySelector("[data-suggest]");
  var box = document.getElementById("suggestions");
  if (!title || !box) return;
  var timer = null;
  var last = "";
  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var value = title.value.trim();
      if (value === last) return;
      last = value;
      if (value.length < 3) { box.innerHTML = ""; return; }
      fetch(title.dataset.suggest + "?title=" + encodeURIComponent(title.value), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) { if (title.value.trim() === value) box.innerHTML = html; })
        .catch(function () { box.innerHTML = ""; });
    }, 250);
  });
})();
