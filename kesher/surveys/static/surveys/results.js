// The NPS chart of a survey's results page: promoters, passives and detractors stacked per period,
// with the NPS as a line on its own axis (−100 … 100). Reads the data the page put in #nps-chart-data.
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("nps-chart");
    var source = document.getElementById("nps-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var rtl = document.documentElement.dir === "rtl";
    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: data.names.promoters, data: data.promoters, backgroundColor: "#1a7f37", stack: "n", yAxisID: "count" },
          { type: "bar", label: data.names.passives, data: data.passives, backgroundColor: "#9a6700", stack: "n", yAxisID: "count" },
          { type: "bar", label: data.names.detractors, data: data.detractors, backgroundColor: "#cf222e", stack: "n", yAxisID: "count" },
          { type: "line", label: data.names.nps, data: data.nps, borderColor: "#0b3d91", backgroundColor: "#0b3d91", yAxisID: "nps" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { rtl: rtl, textDirection: rtl ? "rtl" : "ltr" }, tooltip: { rtl: rtl } },
        scales: {
          count: { type: "linear", position: rtl ? "right" : "left", stacked: true, beginAtZero: true },
          nps: { type: "linear", position: rtl ? "left" : "right", min: -100, max: 100, grid: { drawOnChartArea: false } },
          x: { stacked: true }
        }
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
