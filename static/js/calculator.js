/* Portal loan calculator: draws the principal/interest chart and keeps the form's
 * error state in step with the result htmx swaps in (see templates/portal/calculator.html).
 * Chart.js is vendored (static/vendor/chartjs) and loaded before this file. */
(function () {
  "use strict";

  var chart = null;

  function drawChart() {
    var canvas = document.getElementById("calculator-chart");
    var source = document.getElementById("calculator-chart-data");
    if (chart) {
      chart.destroy();
      chart = null;
    }
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    if (!data) {
      return;
    }
    var toNumbers = function (values) {
      return values.map(Number);
    };
    chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Principal", data: toNumbers(data.principal), backgroundColor: "#0b5cad", stack: "payment" },
          { label: "Interest", data: toNumbers(data.interest), backgroundColor: "#e08a00", stack: "payment" }
        ]
      },
      options: {
        animation: false,
        aspectRatio: 2.5,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, title: { display: true, text: "Payment number" } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: "Amount" } }
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: function (items) {
                var index = items[0].dataIndex;
                return "Payment " + data.labels[index] + " \u00b7 due " + data.dates[index];
              }
            }
          }
        }
      }
    });
  }

  function syncFieldState() {
    var result = document.querySelector("#calculator-result .calculator-result");
    var form = document.getElementById("calculator-form");
    if (!result || !form) {
      return;
    }
    var invalid = (result.getAttribute("data-invalid-fields") || "").split(" ").filter(Boolean);
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.name || element.type === "submit") {
        return;
      }
      if (invalid.indexOf(element.name) >= 0) {
        element.setAttribute("aria-invalid", "true");
      } else if (element.hasAttribute("aria-invalid")) {
        element.removeAttribute("aria-invalid");
      }
    });
  }

  function setBusy(busy) {
    var region = document.getElementById("calculator-result");
    if (region) {
      region.setAttribute("aria-busy", busy ? "true" : "false");
    }
  }

  document.addEventListener("DOMContentLoaded", drawChart);
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "calculator-result") {
      setBusy(true);
    }
  });
  document.addEventListener("htmx:afterRequest", function () {
    setBusy(false);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "calculator-result") {
      drawChart();
      syncFieldState();
    }
  });
})();
