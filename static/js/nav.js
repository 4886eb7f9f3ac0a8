// The language switch applies as soon as a language is chosen; its button is for browsers without JavaScript.
(function () {
  "use strict";
  var select = document.getElementById("lang-select");
  if (!select) { return; }
  var button = select.form.querySelector("button[type=submit]");
  if (button) { button.hidden = true; }
  select.addEventListener("change", function () { select.form.submit(); });
}());
