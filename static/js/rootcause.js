// The root-cause form shows only the chosen method's fields (the five whys, the fishbone, the 8D disciplines).
// Without JavaScript every method's fields are shown, each under its own heading; the server keeps only the chosen
// method's.
(function () {
  "use strict";
  var select = document.getElementById("method");
  if (!select) { return; }
  var groups = document.querySelectorAll("[data-method]");
  function update() {
    groups.forEach(function (group) { group.hidden = group.dataset.method !== select.value; });
  }
  select.addEventListener("change", update);
  update();
}());
