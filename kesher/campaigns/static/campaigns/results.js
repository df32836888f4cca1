// The campaign's results as a bar chart (Chart.js, served by Kesher): one bar per result, one colour per
// variant; right to left in Hebrew (the first result at the right, the legend and tooltips RTL).
(function () {
  "use strict";
  var canvas = document.getElementById("results-chart");
  if (!canvas || typeof Chart === "undefined") return;
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var colours = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b"];
  var lang = document.documentElement.lang;
  var chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map(function (s, i) { return {label: s.label, data: s.data, backgroundColor: colours[i % colours.length]}; })
    },
    options: {
      maintainAspectRatio: false,
      locale: lang,
      animation: false,
      plugins: {
        legend: {rtl: data.rtl, textDirection: data.rtl ? "rtl" : "ltr"},
        tooltip: {rtl: data.rtl, textDirection: data.rtl ? "rtl" : "ltr"}
      },
      scales: {
        x: {reverse: data.rtl, ticks: {autoSkip: false}},
        y: {beginAtZero: true, position: data.rtl ? "right" : "left", ticks: {precision: 0}}
      }
    }
  });
  canvas.dataset.ready = "1";
  window.kesherResultsChart = chart;
})();
