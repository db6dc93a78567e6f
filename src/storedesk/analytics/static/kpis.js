// KPI dashboard charts (storedesk.analytics). Data comes from the page (#kpi-data, JSON); Chart.js from
// the workspace's vendor route (npm package chart.js). No inline script: the CSP is script-src 'self'.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("kpi-data");
    if (!source || typeof window.Chart === "undefined") {
      document.documentElement.setAttribute("data-charts", "unavailable");
      return;
    }
    var d = JSON.parse(source.textContent);
    var Chart = window.Chart;
    var accent = "#4a55e0", green = "#15803d", amber = "#b45309", grey = "#98a2b3";
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.animation = false;
    var common = { responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } };
    var charts = [];

    function make(id, config) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      config.options = Object.assign({}, common, config.options || {});
      charts.push(new Chart(canvas, config));
      canvas.setAttribute("data-rendered", "true");
    }

    make("chart-volume", {
      type: "bar",
      data: {
        labels: d.labels,
        datasets: [
          { label: "Conversations", data: d.conversations, backgroundColor: accent },
          { label: "Resolved", data: d.resolved, backgroundColor: green },
          { label: "Backlog", data: d.backlog, type: "line", borderColor: amber, backgroundColor: amber, pointRadius: 0, tension: 0.2 }
        ]
      },
      options: { scales: { y: { beginAtZero: true } } }
    });
    make("chart-frt", {
      type: "line",
      data: {
        labels: d.labels,
        datasets: [
          { label: "Business hours", data: d.frt_business_hours, borderColor: accent, backgroundColor: accent, spanGaps: true, tension: 0.2 },
          { label: "Wall clock", data: d.frt_hours, borderColor: grey, backgroundColor: grey, spanGaps: true, tension: 0.2 }
        ]
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "hours" } } } }
    });
    make("chart-csat", {
      type: "line",
      data: { labels: d.labels, datasets: [{ label: "CSAT %", data: d.csat, borderColor: green, backgroundColor: green, spanGaps: true, tension: 0.2 }] },
      options: { scales: { y: { min: 0, max: 100 } }, plugins: { legend: { display: false } } }
    });
    make("chart-surveys", {
      type: "line",
      data: {
        labels: d.labels,
        datasets: [
          { label: "NPS", data: d.nps, borderColor: accent, backgroundColor: accent, spanGaps: true, tension: 0.2, yAxisID: "y" },
          { label: "CES (1–7)", data: d.ces, borderColor: amber, backgroundColor: amber, spanGaps: true, tension: 0.2, yAxisID: "ces" },
          { label: "Answers", data: d.survey_answers, type: "bar", backgroundColor: "rgba(152,162,179,.35)", yAxisID: "answers" }
        ]
      },
      options: { scales: {
        y: { min: -100, max: 100, title: { display: true, text: "NPS" } },
        ces: { position: "right", min: 1, max: 7, grid: { drawOnChartArea: false }, title: { display: true, text: "CES" } },
        answers: { display: false, beginAtZero: true }
      } }
    });
    var dist = d.frt_distribution || {};
    make("chart-frt-dist", {
      type: "bar",
      data: {
        labels: ["≤ 15 min", "≤ 1 h", "≤ 4 h", "≤ 24 h", "> 24 h"],
        datasets: [{ label: "First responses", data: [dist.frt_le_15m, dist.frt_le_1h, dist.frt_le_4h, dist.frt_le_24h, dist.frt_gt_24h], backgroundColor: accent }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
    });
    make("chart-channels", {
      type: "doughnut",
      data: { labels: d.channels.labels, datasets: [{ data: d.channels.values, backgroundColor: [accent, green, amber, "#2e6aa8", "#c0262d", grey, "#7c3aed", "#0f766e"] }] },
      options: { plugins: { legend: { position: "right" } } }
    });
    document.documentElement.setAttribute("data-charts", String(charts.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
