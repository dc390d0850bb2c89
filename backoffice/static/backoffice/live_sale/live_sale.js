// The live sale page: draws the per-minute snapshots with Chart.js (served from this site's static
// files) and refreshes them from the JSON endpoint every few seconds, without reloading the page.
(function () {
  "use strict";

  const CHARTS = [
    {id: "chart-queue", title: "Queue: waiting and active users", type: "line",
     series: [["waiting", "Waiting", "#417690"], ["active", "Active", "#79aec8"]]},
    {id: "chart-flow", title: "Admitted and abandoned per minute", type: "bar",
     series: [["admitted_per_minute", "Admitted / min", "#2e7d32"], ["abandoned_per_minute", "Abandoned / min", "#c62828"]]},
    {id: "chart-sales", title: "Live holds and tickets sold", type: "line",
     series: [["holds", "Holds", "#f9a825"], ["sales", "Sales", "#6a1b9a"]]},
    {id: "chart-conversion", title: "Conversion (sales / admitted), %", type: "line", percent: true,
     series: [["conversion", "Conversion %", "#00838f"]]},
    {id: "chart-revenue", title: "Revenue (points)", type: "line",
     series: [["revenue", "Revenue", "#ef6c00"]]},
  ];

  function values(spec, key, series) {
    const raw = series[key] || [];
    return spec.percent ? raw.map((v) => (v === null ? null : Math.round(v * 1000) / 10)) : raw;
  }

  function build(spec, series) {
    const canvas = document.getElementById(spec.id);
    return new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: series.labels.slice(),
        datasets: spec.series.map(([key, label, color]) => ({
          key: key, label: label, data: values(spec, key, series),
          borderColor: color, backgroundColor: color, pointRadius: 2, tension: 0.2, spanGaps: true,
        })),
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {title: {display: true, text: spec.title}},
        scales: {y: {beginAtZero: true}},
      },
    });
  }

  function showNow(now) {
    document.querySelectorAll("[data-now]").forEach((cell) => {
      const key = cell.dataset.now;
      let value = now[key];
      if (key === "conversion") value = value === null ? "—" : (value * 100).toFixed(1) + " %";
      cell.textContent = value === null || value === undefined ? "—" : String(value);
    });
  }

  // Orders of the last minutes: counts as they come, the sizes as "1 seat: n · 2 seats: n ...".
  function showOrders(orders) {
    document.querySelectorAll("[data-orders]").forEach((cell) => {
      const key = cell.dataset.orders;
      let value = orders[key];
      if (key === "sizes") {
        value = Object.entries(value).map(([size, count]) => size + (size === "1" ? " seat: " : " seats: ") + count).join(" · ");
      }
      cell.textContent = value === null || value === undefined ? "—" : String(value);
    });
  }

  function start() {
    const root = document.querySelector(".live-sale");
    if (!root || !window.Chart) return;
    const url = root.dataset.url;
    const every = Math.max(1, parseInt(root.dataset.refreshSeconds, 10) || 5) * 1000;
    const status = document.getElementById("live-sale-status");
    const charts = {};
    window.liveSaleCharts = charts;

    async function refresh() {
      try {
        const response = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
        if (!response.ok) throw new Error("HTTP " + response.status);
        const data = await response.json();
        showNow(data.now);
        showOrders(data.orders);
        for (const spec of CHARTS) {
          const chart = charts[spec.id];
          if (!chart) {
            charts[spec.id] = build(spec, data.series);
            continue;
          }
          chart.data.labels = data.series.labels.slice();
          chart.data.datasets.forEach((dataset) => { dataset.data = values(spec, dataset.key, data.series); });
          chart.update("none");
        }
        status.textContent = "updated " + new Date().toLocaleTimeString() + " (" + data.series.labels.length + " minutes recorded)";
        root.dataset.refreshed = String((parseInt(root.dataset.refreshed || "0", 10)) + 1);
      } catch (error) {
        status.textContent = "refresh failed (" + error.message + "); retrying";
      }
    }

    refresh();
    window.setInterval(() => { if (document.visibilityState !== "hidden") refresh(); }, every);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
