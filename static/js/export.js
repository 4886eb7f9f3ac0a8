// While an export is being written, refresh its progress every second; reload when it is ready or failed.
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box || (box.dataset.status !== "queued" && box.dataset.status !== "running")) { return; }
  function update() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(update, 3000); return; }
        if (data.status !== "queued" && data.status !== "running") { window.location.reload(); return; }
        var bar = box.querySelector("[data-field=bar]");
        if (bar) {
          bar.style.width = data.progress + "%";
          bar.parentElement.setAttribute("aria-valuenow", data.progress);
        }
        var rows = box.querySelector("[data-field=rows]");
        if (rows) { rows.textContent = Number(data.rows).toLocaleString(document.documentElement.lang || undefined); }
        window.setTimeout(update, 1000);
      })
      .catch(function () { window.setTimeout(update, 3000); });
  }
  window.setTimeout(update, 1000);
}());
