// Show crisis resources as soon as item 9 (thoughts of death or self-harm) is answered at 1 or more.
// The server shows them again after the answers are sent, so nothing depends on this script.
(function () {
  var item = document.querySelector("[data-crisis-item]");
  var box = document.getElementById("crisis");
  if (!item || !box) return;
  function update() {
    var chosen = item.querySelector("input:checked");
    if (chosen && parseInt(chosen.value, 10) >= 1) box.hidden = false;
  }
  item.addEventListener("change", update);
  update();
})();
