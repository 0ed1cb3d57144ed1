/* Staff reports and dashboard: draws each <canvas class="report-chart-canvas"> from the JSON
 * the page embeds with json_script (its id in data-chart; lendcore.web.reporting builds it),
 * as a bar chart unless data-chart-type or the data's `type` says otherwise. Chart.js is vendored
 * (static/vendor/chartjs) and loaded before this file; amounts come as strings. */
(function () {
  "use strict";

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: canvas.getAttribute("data-chart-type") || data.type || "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set) {
          // null: no point there (a vintage not that many months on book yet)
          return {
            label: set.label,
            data: set.data.map(function (value) { return value === null ? null : Number(value); })
          };
        })
      },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function drawAll() {
    document.querySelectorAll("canvas.report-chart-canvas").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
