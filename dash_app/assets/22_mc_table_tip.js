/* The sparkline's tooltip: the check under the pointer, its time (local, with offset), latency or
 * error, and status (21_mc_sparks.js knows where each point and block is drawn). */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var tip = null;
  function showTip(text, x, y) {
    if (!tip) {
      tip = MC.el("div", "mc-spark-tip");
      tip.id = "mc-spark-tip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    tip.textContent = text;
    tip.style.display = "block";
    var w = tip.offsetWidth;
    tip.style.left = Math.max(4, Math.min(x + 12, window.innerWidth - w - 4)) + "px";
    tip.style.top = Math.max(4, y - 34) + "px";
  }
  function hideTip() {
    if (tip) tip.style.display = "none";
  }
  var pointer = null; // where the pointer last was: a redraw under a still pointer updates the tip

  /* What is under the pointer now: a new point moves the line under a still pointer, and a row
   * filtered away takes its tooltip with it. */
  function update() {
    if (!pointer) return hideTip();
    var under = document.elementFromPoint(pointer.x, pointer.y);
    var cell = under && under.closest ? under.closest("td.mc-spark-cell") : null;
    var svg = cell && cell.querySelector("svg");
    if (!svg) return hideTip();
    var point = MC.sparks.pick(cell.parentNode.dataset.service, pointer.x - svg.getBoundingClientRect().left);
    if (!point) return hideTip();
    showTip(MC.sparks.describe(point), pointer.x, pointer.y);
  }

  MC.tipRefresh = function () {
    if (tip && tip.style.display === "block") update();
  };

  document.addEventListener("mousemove", function (event) {
    pointer = { x: event.clientX, y: event.clientY };
    update();
  });
  document.addEventListener("mouseleave", function () {
    pointer = null;
    hideTip();
  });
  document.addEventListener("scroll", hideTip, { passive: true });
})();
