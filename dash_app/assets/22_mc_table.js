/* The health table's rows, drawn in the browser from the live data.
 *
 * A live result patches its one row in the next animation frame: no server round trip, and the row
 * element stays the same (a click or the keyboard focus is never lost to a re-render). Filter and
 * sort run over every service (22_mc_table_order.js); only the rows in view exist in the page (spacer rows stand
 * for the others), so 1,000 services cost what the screen shows. Columns, classes, badges, the
 * severity order, the default sort and VIRTUAL_MIN come from the server (layouts/table.py table_config,
 * callbacks/view.py table_view). */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var OVERSCAN = 30; // rows drawn above and below the screen
  // The server sends both in the table's config (callbacks/view.py table_view: VIRTUAL_MIN, DEFAULT_SORT);
  // these stand in only for a config without them, so the table still draws.
  var FALLBACK_VIRTUAL_MIN = 150;
  var FALLBACK_SORT = { col: "status", dir: "asc" };

  var t = {
    config: null,
    views: new Map(), // name -> the service's latest view
    names: [], // configuration order
    order: [], // filtered and sorted names
    orderDirty: true,
    dirty: new Set(),
    allDirty: true,
    sweep: null,
    params: { sort: null, text: "", status: "all", selected: "" }, // sort null: t.defaultSort
    rows: new Map(), // name -> its <tr>, while drawn
    range: [0, 0],
    frame: null,
    sparkWidth: 0,
    countText: null,
    onCount: null,
    loaded: false,
    stats: { renders: 0, patched: 0, lastFrame: 0 },
  };
  MC.table = t;
  t.VIRTUAL_MIN = FALLBACK_VIRTUAL_MIN; // up to this many rows, all are drawn (the server's, once configured)
  t.defaultSort = FALLBACK_SORT;
  t.OVERSCAN = OVERSCAN;
  var spacers = {};

  t.configure = function (config) {
    t.config = config.table;
    if (typeof t.config.virtual_min === "number") t.VIRTUAL_MIN = t.config.virtual_min;
    if (t.config.sort) t.defaultSort = t.config.sort;
    t.bodyId = config.ids.table_body;
    t.tableId = config.ids.table;
  };

  /* A whole snapshot: every service's view, in configuration order. */
  t.setServices = function (services, sweep) {
    t.views = new Map();
    t.names = [];
    (services || []).forEach(function (view) {
      t.views.set(view.name, view);
      t.names.push(view.name);
    });
    t.sweep = sweep;
    t.loaded = true;
    t.allDirty = t.orderDirty = true;
    t.schedule();
  };

  /* One service's new view (a check result, or a sweep's delta). */
  t.update = function (view) {
    if (!t.views.has(view.name)) t.names.push(view.name);
    t.views.set(view.name, view);
    t.dirty.add(view.name);
    t.orderDirty = true;
    t.schedule();
  };

  t.setSweep = function (sweep) {
    if (sweep === undefined || sweep === t.sweep) return;
    t.sweep = sweep;
    t.schedule();
  };

  /* The first `count` names in the current order: whose history to ask for before the rows exist. */
  t.first = function (count) {
    if (t.orderDirty) computeOrder();
    return t.order.slice(0, count);
  };

  t.view = function (name) {
    return t.views.get(name) || null;
  };

  t.setParams = function (params) {
    var was = t.params.selected;
    t.params = params;
    if (was !== params.selected) {
      t.dirty.add(was);
      t.dirty.add(params.selected);
    }
    t.orderDirty = true;
    t.schedule();
  };

  t.schedule = function () {
    if (t.frame === null) t.frame = requestAnimationFrame(render);
  };

  /* Draw now, not in the next frame: the body has just been rendered (30_mc_live_early_start.js), so its rows
   * are painted in the same frame as the empty table would have been. */
  t.renderNow = function () {
    if (t.frame !== null) cancelAnimationFrame(t.frame);
    render();
  };

  /* -- drawing ---------------------------------------------------------------------------------- */
  function badgeHtml(v) {
    var status = v.status || "pending";
    var style = t.config.status_style[status] || [status.toUpperCase(), "secondary", "pending"];
    var html = '<span class="badge mc-badge mc-icon-' + style[2] + " text-bg-" + style[1] + '">' + MC.escape(style[0]) + "</span>";
    t.config.flags.forEach(function (f) {
      if (!v[f[0]]) return;
      html +=
        '<span class="badge mc-flag border border-' +
        f[3] +
        " text-" +
        f[3] +
        "-emphasis bg-" +
        f[3] +
        '-subtle" title="' +
        f[4] +
        '" data-flag="' +
        f[1] +
        '"><i class="mc-icon mc-icon-' +
        f[2] +
        '" aria-hidden="true"></i><span class="mc-flag-text">' +
        f[4] +
        "</span></span>";
    });
    // Shown instead of the badge while the page has no live data (CSS on .mc-stale).
    return html + '<span class="badge text-bg-secondary mc-badge-unknown" title="last known: ' + MC.escape(style[0]) + '">UNKNOWN</span>';
  }

  function cellView(v, col, base) {
    if (col === "latency") {
      if (v.error) return [v.error, base + " text-danger-emphasis mc-latency-error", v.error]; // a failed check has no latency
      return [MC.fmtMs(v.latency_ms), base, ""];
    }
    if (col.indexOf("uptime_") === 0) {
      var u = (v.uptime || {})[col.slice(7)];
      if (u === undefined) u = null;
      return [MC.fmtPct(u), (base + " " + MC.uptimeClass(u)).trim(), ""];
    }
    if (col === "failures") return [String(v.consecutive_failures || 0), base, ""];
    return [MC.clockText(v.last_checked) || "—", base, MC.isoLocal(v.last_checked)];
  }

  function createRow(name) {
    var tr = MC.el("tr", "mc-row");
    tr.dataset.service = name;
    var nameCell = MC.el("td", "mc-name");
    // A real button, so the row opens from the keyboard (30_mc_live.js turns any row click into OPEN_REQUEST).
    var button = MC.el("button", "mc-row-open", name);
    button.type = "button";
    nameCell.appendChild(button);
    tr.appendChild(nameCell);
    tr.appendChild(MC.el("td", "mc-status"));
    var css = {};
    t.config.columns.forEach(function (c) {
      css[c.key] = c.css;
    });
    tr.__values = t.config.value_columns.map(function (col) {
      var td = MC.el("td", (css[col] + " mc-num").trim());
      td.__base = td.className;
      td.__col = col;
      tr.appendChild(td);
      return td;
    });
    tr.appendChild(MC.el("td", "mc-spark-cell"));
    return tr;
  }

  function patch(tr, v) {
    var selected = v.name === t.params.selected;
    var cls = selected ? "mc-row table-active" : "mc-row";
    if (tr.className !== cls) tr.className = cls;
    var status = v.status || "pending";
    if (tr.dataset.status !== status) tr.dataset.status = status;
    var button = tr.firstChild.firstChild;
    var title = v.name + ": " + (v.target || "");
    if (button.title !== title) button.title = title;
    var key =
      status +
      t.config.flags
        .map(function (f) {
          return v[f[0]] ? 1 : 0;
        })
        .join("");
    if (tr.__badge !== key) {
      tr.__badge = key;
      tr.children[1].innerHTML = badgeHtml(v);
    }
    tr.__values.forEach(function (td) {
      var view = cellView(v, td.__col, td.__base);
      if (td.textContent !== view[0]) td.textContent = view[0];
      if (td.className !== view[1]) td.className = view[1];
      if (td.title !== view[2]) td.title = view[2];
    });
    t.stats.patched += 1;
  }

  function drawSpark(tr, name) {
    var key = (MC.sparks.version.get(name) || 0) + "/" + t.sparkWidth + "/" + MC.sparks.has(name);
    if (tr.__spark === key) return;
    tr.__spark = key;
    var drawn = MC.sparks.svg(name, t.sparkWidth);
    var svg = tr.lastChild.firstChild;
    if (!svg) {
      // The same <svg> element for the row's life: only its shapes change (a hover keeps its target).
      svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "mc-spark");
      tr.lastChild.appendChild(svg);
    }
    var h = MC.sparks.HEIGHT;
    svg.setAttribute("width", drawn.width);
    svg.setAttribute("height", h);
    svg.setAttribute("viewBox", "0 0 " + drawn.width + " " + h);
    if (drawn.label) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", drawn.label);
      svg.removeAttribute("aria-hidden");
    } else {
      svg.removeAttribute("role");
      svg.removeAttribute("aria-label");
      svg.setAttribute("aria-hidden", "true");
    }
    svg.innerHTML = drawn.inner;
  }

  function spacer(which, height) {
    var tr = spacers[which];
    if (!tr) {
      tr = spacers[which] = MC.el("tr", "mc-spacer");
      tr.setAttribute("aria-hidden", "true");
      var td = MC.el("td");
      td.colSpan = t.config.columns.length + 1;
      tr.appendChild(td);
    }
    tr.firstChild.style.height = height + "px";
    return tr;
  }

  function emptyRow() {
    if (!spacers.empty) {
      spacers.empty = MC.el("tr", "mc-empty");
      var td = MC.el("td", "text-center text-body-secondary py-3", t.config.empty_text);
      td.colSpan = t.config.columns.length + 1;
      spacers.empty.appendChild(td);
    }
    return spacers.empty;
  }

  function windowRange(body, n) {
    if (n <= t.VIRTUAL_MIN) return [0, n];
    var h = t.config.row_height;
    var top = body.getBoundingClientRect().top;
    var first = Math.max(0, Math.floor(-top / h) - OVERSCAN);
    var last = Math.min(n, Math.ceil((window.innerHeight - top) / h) + OVERSCAN);
    if (last <= first) last = Math.min(n, first + 2 * OVERSCAN);
    if (last <= first) first = Math.max(0, last - 2 * OVERSCAN);
    return [first, last];
  }

  function computeOrder() {
    t.order = MC.orderRows(t.names, t.views, t.params, t.config.severity, t.defaultSort);
    t.orderDirty = false;
    var total = t.names.length;
    var text = t.order.length !== total ? t.order.length + " of " + total + " services" : total + " services";
    if (text !== t.countText) {
      t.countText = text;
      if (t.onCount) t.onCount(text);
    }
  }

  function render() {
    t.frame = null;
    var body = document.getElementById(t.bodyId);
    if (!body || !t.config || !t.loaded) return;
    var began = performance.now();
    if (t.orderDirty) computeOrder();
    var width = parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--mc-spark-w")) || 0;
    if (width !== t.sparkWidth) t.sparkWidth = width;
    var n = t.order.length;
    var range = (t.range = windowRange(body, n));
    var virtual = n > t.VIRTUAL_MIN;
    var table = document.getElementById(t.tableId);
    if (table) table.setAttribute("aria-rowcount", String(n + 1));
    var active = document.activeElement;
    var focused = active && body.contains(active) ? active : null;
    var want = [];
    var missing = [];
    if (n === 0) want.push(emptyRow());
    if (range[0] > 0) want.push(spacer("top", range[0] * t.config.row_height));
    for (var i = range[0]; i < range[1]; i += 1) {
      var name = t.order[i];
      var tr = t.rows.get(name);
      var fresh = !tr;
      if (fresh) {
        tr = createRow(name);
        t.rows.set(name, tr);
      }
      if (fresh || t.allDirty || t.dirty.has(name)) patch(tr, t.views.get(name));
      var sweep = t.sweep === null || t.sweep === undefined ? "" : String(t.sweep);
      if (tr.dataset.sweep !== sweep) tr.dataset.sweep = sweep;
      if (virtual) tr.setAttribute("aria-rowindex", String(i + 2));
      else tr.removeAttribute("aria-rowindex");
      if (!MC.sparks.has(name)) missing.push(name);
      drawSpark(tr, name);
      want.push(tr);
    }
    if (range[1] < n) want.push(spacer("bottom", (n - range[1]) * t.config.row_height));
    for (var k = 0; k < want.length; k += 1) {
      if (body.children[k] !== want[k]) body.insertBefore(want[k], body.children[k] || null);
    }
    while (body.children.length > want.length) {
      var extra = body.lastElementChild;
      body.removeChild(extra);
      if (extra.dataset && extra.dataset.service && t.rows.get(extra.dataset.service) === extra) t.rows.delete(extra.dataset.service);
    }
    // Moving a focused row blurs it: give the focus back to the same element.
    if (focused && focused.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
    t.dirty.clear();
    t.allDirty = false;
    if (missing.length) MC.sparks.need(missing);
    t.stats.renders += 1;
    t.stats.lastFrame = performance.now() - began;
    if (MC.tipRefresh) MC.tipRefresh();
    if (t.afterRender) t.afterRender();
  }

  MC.sparks.onLoaded = function () {
    t.schedule();
  };

  function onViewport() {
    if (!t.loaded) return;
    if (t.order.length > t.VIRTUAL_MIN) {
      var body = document.getElementById(t.bodyId);
      var range = body ? windowRange(body, t.order.length) : t.range;
      if (range[0] === t.range[0] && range[1] === t.range[1]) return;
    }
    t.schedule();
  }
  window.addEventListener("scroll", onViewport, { passive: true });
  window.addEventListener("resize", function () {
    t.schedule();
  });
})();
