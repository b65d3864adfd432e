// Show crisis resources beside the question as soon as an answer warrants them (PHQ-9/PHQ-A item 9
// at 1 or more, a yes to any C-SSRS question: data-crisis-from on the item). The box moves to just
// after that question and is scrolled into view, so on a phone it appears where the patient is
// looking. The server shows it again after the answers are sent, so nothing depends on this script.
(function () {
  var box = document.getElementById("crisis");
  var items = document.querySelectorAll("[data-crisis-item]");
  if (!box || !items.length) return;
  function warrants(item) {
    var chosen = item.querySelector("input:checked");
    return chosen && parseInt(chosen.value, 10) >= parseInt(item.getAttribute("data-crisis-from"), 10);
  }
  function show(item) {
    if (item.nextElementSibling !== box) item.parentNode.insertBefore(box, item.nextSibling);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }
  Array.prototype.forEach.call(items, function (item) {
    item.addEventListener("change", function () {
      if (warrants(item)) show(item);
    });
  });
})();
