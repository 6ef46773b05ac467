/* Draws the charts whose data a page embeds as JSON (<script type="application/json"
   data-chart="ID">); the canvas with that id receives a Chart.js chart. */
(function () {
  "use strict";
  const palette = ["#3b5bdb", "#e8590c", "#2b8a3e", "#ae3ec9", "#1098ad", "#f08c00", "#c92a2a", "#5c940d", "#364fc7", "#862e9c"];
  function draw(root) {
    if (typeof Chart === "undefined") return;
    if (window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches) {
      Chart.defaults.color = "#aab2c3";  /* axis and legend text on the dark background */
      Chart.defaults.borderColor = "#2f3645";
    }
    root.querySelectorAll("script[data-chart]").forEach(function (node) {
      const canvas = document.getElementById(node.dataset.chart);
      if (!canvas || canvas.dataset.drawn) return;
      const spec = JSON.parse(node.textContent);
      (spec.data.datasets || []).forEach(function (d, i) {
        const c = d.color || palette[i % palette.length];
        if (!d.borderColor) d.borderColor = c;
        if (!d.backgroundColor) d.backgroundColor = spec.type === "line" && !d.fill ? c : c + "cc";
      });
      spec.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false } }, spec.options || {});
      canvas.dataset.drawn = "1";
      new Chart(canvas, spec);
    });
  }
  /* A picker chip adds its value to a comma-separated field (a funnel's steps). */
  document.addEventListener("click", function (e) {
    const chip = e.target.closest && e.target.closest("[data-append-to]");
    if (!chip) return;
    const field = document.getElementById(chip.dataset.appendTo);
    if (!field) return;
    const steps = field.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    steps.push(chip.value);
    field.value = steps.join(", ");
    field.focus();
  });
  /* A form with data-confirm asks before it is sent (removing a goal, revoking a key). */
  document.addEventListener("submit", function (e) {
    const message = e.target.dataset && e.target.dataset.confirm;
    if (message && !window.confirm(message)) e.preventDefault();
  });
  /* A table that scrolls sideways (on a phone) can be scrolled with the keyboard too. */
  function scrollable(root) {
    root.querySelectorAll("table.data").forEach(function (t) {
      if (t.scrollWidth > t.clientWidth + 1) t.setAttribute("tabindex", "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); scrollable(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
})();
