/* Formats shared by the browser's table, sparklines and toasts: the same text the server writes
 * (layouts/common.py fmt_ms, fmt_pct, uptime_class), times in the viewer's zone. */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var NO_VALUE = "—";

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  MC.fmtMs = function (value) {
    if (value === null || value === undefined) return NO_VALUE;
    if (value >= 10000) return (value / 1000).toFixed(1) + " s";
    return value >= 100 ? value.toFixed(0) + " ms" : value.toFixed(1) + " ms";
  };

  MC.fmtPct = function (value) {
    if (value === null || value === undefined) return NO_VALUE;
    if (value >= 100) return "100 %";
    return value >= 99 ? value.toFixed(2) + " %" : value.toFixed(1) + " %";
  };

  /* Text colour for an uptime figure: the eye finds the bad ones first. */
  MC.uptimeClass = function (value) {
    if (value === null || value === undefined || value >= 99.9) return "";
    return value >= 99 ? "text-warning-emphasis" : "text-danger-emphasis fw-semibold";
  };

  /* A moment in the browser's zone as ISO 8601 with its offset (what a time says on hover). */
  MC.isoLocal = function (iso) {
    var d = typeof iso === "number" ? new Date(iso) : new Date(iso || NaN);
    if (isNaN(d)) return "";
    var off = -d.getTimezoneOffset();
    var abs = Math.abs(off);
    return (
      d.getFullYear() +
      "-" +
      pad(d.getMonth() + 1) +
      "-" +
      pad(d.getDate()) +
      "T" +
      pad(d.getHours()) +
      ":" +
      pad(d.getMinutes()) +
      ":" +
      pad(d.getSeconds()) +
      (off >= 0 ? "+" : "-") +
      pad(Math.floor(abs / 60)) +
      ":" +
      pad(abs % 60)
    );
  };

  /* "14:03:07" in the browser's zone (callbacks/common.py clock() writes the same). */
  MC.clockText = function (iso) {
    var d = typeof iso === "number" ? new Date(iso) : new Date(iso || NaN);
    return isNaN(d) ? null : pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  };

  MC.statusWord = function (status) {
    return (
      { up: "UP", degraded: "DEGRADED", down: "DOWN", pending: "PENDING", maintenance: "MAINTENANCE", disabled: "DISABLED" }[status] ||
      String(status || "").toUpperCase()
    );
  };

  // The same colours as layouts/common.py STATUS_HEX (readable on light and dark backgrounds).
  MC.STATUS_HEX = {
    up: "#198754",
    degraded: "#fd7e14",
    down: "#dc3545",
    pending: "#6c757d",
    maintenance: "#0dcaf0",
    disabled: "#adb5bd",
  };

  MC.escape = function (text) {
    return String(text === null || text === undefined ? "" : text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  };

  /* Where the app is mounted (Dash's requests_pathname_prefix): every fetch of ours starts here. */
  MC.prefix = function () {
    try {
      var config = JSON.parse(document.getElementById("_dash-config").textContent);
      return config.requests_pathname_prefix || "/";
    } catch (e) {
      return "/";
    }
  };

  MC.el = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };
})();
