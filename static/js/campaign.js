// While a campaign sends, refresh its funnel every two seconds; reload the page when it is done.
(function () {
  "use strict";
  var box = document.getElementById("campaign-progress");
  if (!box || box.dataset.status !== "sending") { return; }
  function update() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        box.querySelectorAll("[data-field]").forEach(function (el) {
          var key = el.dataset.field;
          if (key === "progress-bar") {
            el.style.width = data.progress + "%";
            el.parentElement.setAttribute("aria-valuenow", data.progress);
          } else if (key in data) {
            // Counts as the page's language writes them (10.000 in Vietnamese), like the server-rendered ones.
            el.textContent = data[key] === null ? "—" : Number(data[key]).toLocaleString(document.documentElement.lang || undefined);
          }
        });
        if (data.status !== "sending") { window.location.reload(); } else { window.setTimeout(update, 2000); }
      })
      .catch(function () { window.setTimeout(update, 5000); });
  }
  window.setTimeout(update, 2000);
}());
