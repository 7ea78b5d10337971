/* Each row's latency sparkline and heartbeat strip, drawn as a small SVG in the row itself.
 *
 * The last checks of the rows in view come once from /api/sparks (ops/recent_checks.py); every live
 * result then appends its point here, so the sparkline changes in the same frame as the badge.
 * The line breaks at a failed check (it has no latency) and at gaps longer than two intervals
 * (nothing was measured there). The strip shows status by colour and by shape. */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var LINE_COLOUR = "#0d6efd";
  var H = 44; // a row's height (layouts/table.py ROW_HEIGHT)
  var LINE_TOP = 5,
    LINE_BOTTOM = 25,
    BEAT_TOP = 30,
    BEAT_BOTTOM = 40,
    PAD = 4;
  var BATCH = 100; // names per request

  var sparks = {
    points: 30, // checks per row: one slot each, for the line and the strip
    intervalMs: 40000,
    data: new Map(), // name -> [{t, ms, s, e}] oldest first
    asked: new Set(), // names requested and not yet answered
    early: new Map(), // name -> points that arrived live while its request was in flight
    queue: [],
    timer: null,
    generation: 0, // bumped by reset(): answers to older requests are dropped
    version: new Map(), // name -> a counter that changes whenever its points change
    geometry: new Map(), // name -> what the tooltip needs (x of each point and block)
    onLoaded: null,
    stats: { requests: 0 },
  };
  MC.sparks = sparks;
  sparks.HEIGHT = H;

  sparks.configure = function (config) {
    var table = config.table || {};
    sparks.points = table.spark_points || sparks.points;
    sparks.intervalMs = config.interval_ms || sparks.intervalMs;
  };

  function bump(name) {
    sparks.version.set(name, (sparks.version.get(name) || 0) + 1);
  }

  function pointOf(view) {
    var t = Date.parse(view.last_checked || "");
    if (isNaN(t)) return null;
    var failed = !!view.error;
    var status = view.maintenance && view.enabled !== false ? "maintenance" : view.status;
    return { t: t, ms: failed ? null : view.latency_ms, s: status, e: view.error || null };
  }

  function push(list, point, onlyNewer) {
    var last = list[list.length - 1];
    if (last && (point.t < last.t || (onlyNewer && point.t === last.t))) return false;
    if (last && point.t === last.t) list[list.length - 1] = point;
    else list.push(point);
    if (list.length > sparks.points) list.splice(0, list.length - sparks.points);
    return true;
  }

  /* A live result: its check joins the row's points (if the row's history is here or on its way). */
  /* `onlyNewer`: a view from a sweep or snapshot message, not a check's own result: it may add a check
   * we missed, never restyle one we have (a maintenance flag set since would recolour the past). */
  sparks.add = function (view, onlyNewer) {
    var point = pointOf(view);
    if (!point) return false;
    if (sparks.data.has(view.name)) {
      if (push(sparks.data.get(view.name), point, onlyNewer)) bump(view.name);
      return true;
    }
    if (sparks.asked.has(view.name) || sparks.everyone) {
      var early = sparks.early.get(view.name) || [];
      push(early, point, onlyNewer);
      sparks.early.set(view.name, early);
    }
    return false;
  };

  sparks.has = function (name) {
    return sparks.data.has(name);
  };

  /* Ask for the history of rows now in view that do not have it yet (batched, once each); `now`:
   * at once, not after the 20 ms that gathers a scroll's rows (a loading page's timers run late). */
  sparks.need = function (names, now) {
    if (sparks.everyone) return; // asked for all at start: its answer covers these
    names.forEach(function (name) {
      if (sparks.data.has(name) || sparks.asked.has(name)) return;
      sparks.asked.add(name);
      sparks.queue.push(name);
    });
    if (now) {
      clearTimeout(sparks.timer);
      flushQueue();
    } else if (sparks.queue.length && sparks.timer === null) sparks.timer = setTimeout(flushQueue, 20);
  };

  /* After the socket was down: what we hold may have holes, so rows ask again. */
  sparks.reset = function () {
    sparks.generation += 1;
    sparks.everyone = false;
    sparks.data.clear();
    sparks.asked.clear();
    sparks.early.clear();
    sparks.queue = [];
    sparks.version.clear();
  };

  /* A small fleet: ask for every row's history at once, in parallel with the socket's first snapshot
   * (the rows are all drawn anyway), so the sparklines do not wait for the rows. */
  sparks.needAll = function () {
    sparks.everyone = true;
    request(null);
  };

  function flushQueue() {
    sparks.timer = null;
    while (sparks.queue.length) request(sparks.queue.splice(0, BATCH));
  }

  function request(names) {
    var query = (names || []).map(function (n) {
      return "service=" + encodeURIComponent(n);
    });
    query.push("points=" + sparks.points);
    sparks.stats.requests += 1;
    answer(
      names,
      fetch(MC.prefix() + "api/sparks?" + query.join("&"), { cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }),
    );
  }

  /* The rows a large fleet shows first, asked for by the page's head script before any of ours ran
   * (dash_app/dashboard.py EARLY_SCRIPT): taken as if asked here, so those rows never ask again. */
  sparks.adoptEarly = function (early) {
    if (!early) return;
    var names = early.query
      .split("&")
      .filter(function (part) {
        return part.indexOf("service=") === 0;
      })
      .map(function (part) {
        return decodeURIComponent(part.slice(8));
      })
      .filter(function (name) {
        return !sparks.data.has(name) && !sparks.asked.has(name);
      });
    names.forEach(function (name) {
      sparks.asked.add(name);
    });
    sparks.stats.early = names.length;
    answer(names, early.answer);
  };

  /* `promise`: /api/sparks's answer for `names` (null: every service). */
  function answer(names, promise) {
    var generation = sparks.generation;
    promise
      .then(function (body) {
        if (generation !== sparks.generation) return;
        var loaded = [];
        if (!names) {
          sparks.everyone = false;
          names = Object.keys(body.services);
        }
        names.forEach(function (name) {
          sparks.asked.delete(name);
          var list = (body.services[name] || []).map(function (p) {
            return { t: p[0], ms: p[1], s: p[2], e: p[3] };
          });
          (sparks.early.get(name) || []).forEach(function (p) {
            push(list, p);
          });
          sparks.early.delete(name);
          // The store gets a sweep's checks when the sweep ends: the row's own latest check may be newer.
          var latest = MC.table && MC.table.view(name) && pointOf(MC.table.view(name));
          if (latest) push(list, latest, true);
          sparks.data.set(name, list);
          bump(name);
          loaded.push(name);
        });
        if (sparks.onLoaded) sparks.onLoaded(loaded);
      })
      .catch(function () {
        if (generation !== sparks.generation) return;
        if (!names) sparks.everyone = false;
        setTimeout(function () {
          if (generation !== sparks.generation) return;
          (names || []).forEach(function (name) {
            sparks.asked.delete(name); // asked again when the row is drawn next, not every frame
          });
          if (sparks.onLoaded) sparks.onLoaded([]);
        }, 5000);
      });
  }

  /* One block of the strip: status by colour and by shape (a string of failures reads without colour). */
  function beatShape(status, x, w, counted) {
    var colour = MC.STATUS_HEX[status] || MC.STATUS_HEX.pending;
    var y0 = BEAT_TOP,
      y1 = BEAT_BOTTOM,
      mid = (y0 + y1) / 2,
      cx = x + w / 2,
      x1 = x + w;
    var f = function (n) {
      return n.toFixed(1);
    };
    var tag = ' class="mc-beat" data-status="' + MC.escape(counted || status) + '" data-shape="' + status + '" ';
    if (status === "up")
      return (
        "<rect" + tag + 'x="' + f(x) + '" y="' + y0 + '" width="' + f(w) + '" height="' + (y1 - y0) + '" rx="1" fill="' + colour + '"/>'
      );
    if (status === "down") {
      var cross = "M" + f(x) + " " + y0 + "L" + f(x1) + " " + y1 + "M" + f(x1) + " " + y0 + "L" + f(x) + " " + y1;
      return "<path" + tag + 'd="' + cross + '" stroke="' + colour + '" stroke-width="2.2" stroke-linecap="round"/>';
    }
    if (status === "degraded") {
      var diamond = "M" + f(cx) + " " + y0 + "L" + f(x1) + " " + mid + "L" + f(cx) + " " + y1 + "L" + f(x) + " " + mid + "Z";
      return "<path" + tag + 'd="' + diamond + '" fill="' + colour + '"/>';
    }
    if (status === "maintenance") {
      return (
        "<rect" +
        tag +
        'x="' +
        f(x + 0.75) +
        '" y="' +
        (y0 + 0.75) +
        '" width="' +
        f(Math.max(w - 1.5, 1)) +
        '" height="' +
        (y1 - y0 - 1.5) +
        '" fill="none" stroke="' +
        colour +
        '" stroke-width="1.5"/>'
      );
    }
    var r = Math.max(Math.min(w, y1 - y0) / 2 - 0.75, 1);
    return (
      "<circle" + tag + 'cx="' + f(cx) + '" cy="' + mid + '" r="' + f(r) + '" fill="none" stroke="' + colour + '" stroke-width="1.5"/>'
    );
  }

  /* What the row's SVG holds: {width, label (null: nothing to say yet), inner (its shapes, as a
   * string: one innerHTML per changed row is the cheapest way to draw it)}. */
  sparks.svg = function (name, width) {
    var all = sparks.data.get(name);
    if (!all || width <= 2 * PAD) {
      sparks.geometry.delete(name);
      return { width: Math.max(width, 0), label: null, inner: "" };
    }
    // One slot per check, newest on the right; the line's point and the strip's block of a check
    // share its slot, so a block always sits under its own point. A pause shows as a break.
    var W = width;
    var list = all.slice(-sparks.points);
    var slot = (W - 2 * PAD) / sparks.points;
    var first = sparks.points - list.length;
    var geo = { first: first, slot: slot, points: list };
    var parts = [];
    var counts = {};
    var top = 1;
    list.forEach(function (p) {
      if (p.ms !== null && p.ms > top) top = p.ms;
    });
    var d = "",
      open = false,
      marks = "",
      gaps = "";
    list.forEach(function (p, i) {
      var x = PAD + (first + i + 0.5) * slot;
      var f = x.toFixed(1);
      var gap = i > 0 && p.t - list[i - 1].t > 2 * sparks.intervalMs;
      if (gap) {
        var g = (x - slot / 2).toFixed(1); // nothing was measured here: a dotted mark between the slots
        gaps +=
          '<path class="mc-spark-gap" d="M' +
          g +
          " " +
          LINE_TOP +
          "V" +
          BEAT_BOTTOM +
          '" stroke="currentColor" stroke-width="1" stroke-dasharray="2 2" opacity="0.5"/>';
      }
      if (p.ms === null || gap) open = false;
      if (p.ms !== null) {
        var y = (LINE_BOTTOM - ((LINE_BOTTOM - LINE_TOP) * p.ms) / top).toFixed(1);
        d += (open ? "L" : "M") + f + " " + y;
        open = true;
        if (i === list.length - 1 || p.s !== "up")
          marks += '<circle cx="' + f + '" cy="' + y + '" r="2.2" fill="' + (MC.STATUS_HEX[p.s] || LINE_COLOUR) + '"/>';
      } else {
        // A failed check has no latency: a red mark under the line, whatever status it counted as.
        var colour = p.s === "maintenance" ? MC.STATUS_HEX.maintenance : MC.STATUS_HEX.down;
        marks += '<circle class="mc-spark-fail" cx="' + f + '" cy="' + LINE_BOTTOM + '" r="2.2" fill="' + colour + '"/>';
      }
      var shape = p.e && p.s !== "maintenance" ? "down" : p.s; // a failed check reads as a failure
      counts[shape] = (counts[shape] || 0) + 1;
      parts.push(beatShape(shape, x - slot * 0.3, slot * 0.6, p.s));
    });
    if (d)
      parts.unshift(
        '<path class="mc-spark-line" d="' + d + '" fill="none" stroke="' + LINE_COLOUR + '" stroke-width="1.5" stroke-linejoin="round"/>',
      );
    parts.unshift(gaps);
    parts.push(marks);
    var beats = list;
    sparks.geometry.set(name, geo);
    var latest = list[list.length - 1];
    var said = Object.keys(counts)
      .map(function (s) {
        return counts[s] + " " + MC.statusWord(s).toLowerCase();
      })
      .join(", ");
    var label = list.length
      ? "Last " + beats.length + " checks: " + said + "; latest " + (latest.e ? "failed: " + latest.e : MC.fmtMs(latest.ms))
      : "No checks yet";
    return { width: W, label: label, inner: parts.join("") };
  };

  /* What a point says on hover: its time (local, with offset), latency or error, and status. */
  sparks.describe = function (p) {
    var when = MC.isoLocal(p.t);
    var what = p.e ? MC.statusWord(p.s) + " · " + p.e : MC.fmtMs(p.ms) + " · " + MC.statusWord(p.s);
    return when + " · " + what;
  };

  /* The check whose slot is under the pointer in a row's spark cell, or null (an empty slot). */
  sparks.pick = function (name, x) {
    var geo = sparks.geometry.get(name);
    if (!geo || !geo.slot) return null;
    var slot = Math.max(0, Math.min(Math.floor((x - PAD) / geo.slot), sparks.points - 1)); // the padding belongs to the end slots
    var i = slot - geo.first;
    return i >= 0 && i < geo.points.length ? geo.points[i] : null;
  };
})();
