// Behaviour every staff page shares. Pages carry no inline script (the Content-Security-Policy
// allows scripts from this server only), so small behaviours are marked with data- attributes.
(function () {
  // <select data-autosubmit>: choosing a value submits its form (the site picker).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
})();

(function () {
  // <input data-select-on-focus>: focusing selects the whole value, ready to copy (a patient's link).
  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target instanceof HTMLInputElement && target.hasAttribute("data-select-on-focus")) {
      target.select();
    }
  });
})();
