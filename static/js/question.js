// The question form shows only the fields of the chosen type: choices for single/multiple choice, bounds for a
// rating. The server renders the right fields for the type it knows; this script follows the select live, and
// hides the "show the fields" button that does the same without JavaScript.
(function () {
  "use strict";
  var select = document.getElementById("id_kind");
  if (!select) { return; }
  var groups = document.querySelectorAll("[data-kinds]");
  function update() {
    groups.forEach(function (group) {
      group.hidden = group.dataset.kinds.split(" ").indexOf(select.value) === -1;
    });
  }
  select.addEventListener("change", update);
  document.querySelectorAll("[data-retype]").forEach(function (button) { button.hidden = true; });
  update();
}());
