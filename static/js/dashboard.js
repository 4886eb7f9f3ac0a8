// Draws the dashboard's Plotly figures: each <div data-figure="id"> takes the JSON of <script id="id">.
(function () {
  "use strict";
  if (!window.Plotly) { return; }
  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  document.querySelectorAll("[data-figure]").forEach(function (box) {
    var source = document.getElementById(box.dataset.figure);
    if (!source) { box.remove(); return; }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(box, figure.data, figure.layout, config);
  });
}());
