// Follow-up questions on the respondent page: each [data-show-if="qN"] is shown while the score question qN has a
// value from data-min to data-max. Without this script the server shows a follow-up once it knows the score.
(function () {
  "use strict";
  var form = document.querySelector("form[method=post]");
  var seen = form && form.querySelector("input[name=fu]");
  if (!seen) { return; }
  seen.value = "js";
  var followUps = form.querySelectorAll("[data-show-if]");
  function update() {
    followUps.forEach(function (box) {
      var chosen = form.querySelector("input[name=" + box.dataset.showIf + "]:checked");
      var score = chosen ? Number(chosen.value) : NaN;
      box.hidden = !(score >= Number(box.dataset.min) && score <= Number(box.dataset.max));
    });
  }
  form.addEventListener("change", update);
  update();
}());
