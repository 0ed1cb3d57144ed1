/* Staff report page: draws the report's bar chart from the JSON the page embeds
 * (templates/staff/reports/report.html, lendcore.web.reporting.report_chart). Chart.js is
 * vendored (static/vendor/chartjs) and loaded before this file; amounts come as strings. */
(function () {
  "use strict";

  function draw() {
    var canvas = document.getElementById("report-chart");
    var source = document.getElementById("report-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set) {
          return { label: set.label, data: set.data.map(Number) };
        })
      },
      options: { responsive: true, animation: false, scales: { y: { beginAtZero: true } } }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
