// Optional drawn signature: draws on the canvas and puts a PNG data URL in the hidden field.
(function () {
  var canvas = document.getElementById("signature-pad");
  var field = document.getElementById("id_signature_png");
  if (!canvas || !field) return;
  var ctx = canvas.getContext("2d");
  var drawing = false, drawn = false;
  ctx.lineWidth = 2; ctx.lineCap = "round";
  function point(e) { var r = canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = point(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
  canvas.addEventListener("pointermove", function (e) { if (!drawing) return; var p = point(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
  window.addEventListener("pointerup", function () { if (drawing && drawn) field.value = canvas.toDataURL("image/png"); drawing = false; });
  document.getElementById("signature-clear").addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); field.value = ""; drawn = false; });
  canvas.dataset.ready = "1"; // listening: a test (or an assistive tool) can wait for this
})();
