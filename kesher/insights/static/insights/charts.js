// The dashboard's figures as Chart.js charts (the copy vendored by the campaigns part): each canvas
// chart-<key> gets the labels and series of its figure; right to left in Hebrew (the first label at the
// right, the value axis on the right, legend and tooltips RTL). The numbers are also in each card's table.
(function () {
  "use strict";
  var source = document.getElementById("insights-charts");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var colours = ["#0f766e", "#2563eb", "#f59e0b", "#be123c", "#7c3aed", "#475569"];
  var lang = document.documentElement.lang;
  var dir = data.rtl ? "rtl" : "ltr";
  window.kesherCharts = {};
  Object.keys(data.figures).forEach(function (key) {
    var figure = data.figures[key];
    var canvas = document.getElementById("chart-" + key);
    if (!canvas) return;
    var stacked = figure.kind === "stacked";
    var line = figure.kind === "line";
    var chart = new Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: figure.labels,
        datasets: figure.series.map(function (s, i) {
          var colour = colours[i % colours.length];
          return {label: s.label, data: s.data, backgroundColor: colour, borderColor: colour, tension: 0.2};
        })
      },
      options: {
        maintainAspectRatio: false,
        locale: lang,
        animation: false,
        plugins: {
          legend: {rtl: data.rtl, textDirection: dir},
          tooltip: {rtl: data.rtl, textDirection: dir}
        },
        scales: {
          x: {reverse: data.rtl, stacked: stacked},
          y: {beginAtZero: true, stacked: stacked, position: data.rtl ? "right" : "left"}
        }
      }
    });
    canvas.dataset.ready = "1";
    window.kesherCharts[key] = chart;
  });
})();
