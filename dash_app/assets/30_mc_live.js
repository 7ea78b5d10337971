/* Mission Control in the browser: what the live messages do to the page, the sweep clock, the stale
 * banner, the details' feed and whole-row clicks. Each message goes to the table (22_mc_table.js) and
 * the toasts (23_mc_tell.js) at once; the fleet head reaches the server's callbacks through dcc.Store
 * ids (given by the server in LIVE_CONFIG). The socket itself (backoff, the HTTP fallback) is
 * 30_mc_live_connection.js; what runs before Dash's renderer (taking over the head script's socket,
 * the first rows) is 30_mc_live_early_start.js. */
(function () {
  "use strict";

  var live = {
    config: null,
    ws: null,
    snapshot: null, // the fleet head of the latest snapshot: everything but the services
    headKey: null,
    state: "connecting",
    attempts: 0,
    downSince: null,
    reconnectTimer: null,
    flushTimer: null,
    pollTimer: null,
    tickDue: false,
    recoveries: 0,
    lastData: null, // ISO time of the newest data the page holds (a snapshot's or a check's)
    lastDataAt: Date.now(), // when it arrived here
    stale: false, // no data for one interval plus grace while the socket is down
    early: [], // messages before startLive, kept by 30_mc_live_early_start.js; startLive handles them
    // resultPaint: ms from a result message to the end of the frame that patched its row (bench/page_speed.py)
    stats: { messages: 0, results: 0, lastResult: null, resultPaint: [], snapshots: {}, polls: 0, connects: 0 },
  };
  window.mcLive = live; // read by the browser tests and bench/page_speed.py

  var MC = window.MC;

  function dc() {
    return window.dash_clientside;
  }

  function setProps(id, props) {
    dc().set_props(id, props);
  }

  /* The snapshot without its services: the table keeps those (22_mc_table.js). */
  function headOf(msg) {
    var head = {};
    Object.keys(msg).forEach(function (key) {
      if (key !== "services") head[key] = msg[key];
    });
    head.type = "snapshot";
    return head;
  }

  /* The server's callbacks hear only of what they show: the header when the fleet's status, counts,
   * storage or sweep time changed, the cards and the details' history once per sweep, the details
   * when their service changed. The rows never wait for this (they are painted already). */
  function flush() {
    live.flushTimer = null;
    if (!live.snapshot) return;
    var ids = live.config.ids;
    var head = live.snapshot;
    var key = headKey(head);
    if (key !== live.headKey) {
      live.headKey = key;
      setProps(ids.live, { data: head });
    }
    var tick = JSON.stringify([head.sweep, head.time]);
    if (live.tickDue && tick !== live.tickKey) {
      live.tickKey = tick;
      setProps(ids.tick, { data: { sweep: head.sweep, time: head.time } });
    }
    live.tickDue = false;
    var view = detailData(detail.name, false);
    if (view) setProps(ids.detail_view, { data: view });
  }

  function headKey(head) {
    return JSON.stringify([head.overall, head.counts, head.storage, head.time, head.sweep]);
  }

  function schedule(delay) {
    if (live.flushTimer !== null) {
      if (delay > 0) return; // a flush is already on its way
      clearTimeout(live.flushTimer);
    }
    live.flushTimer = setTimeout(flush, delay);
  }

  var BEAT = [{ opacity: 1 }, { opacity: 0.3 }, { opacity: 1 }];
  function beat() {
    var dot = document.getElementById(live.config.ids.connection);
    if (!dot || !dot.animate || Date.now() - (live.beatAt || 0) < 2000) return;
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) return;
    live.beatAt = Date.now();
    dot.animate(BEAT, { duration: 700, pseudoElement: "::before" });
  }

  function fresh(iso) {
    beat();
    live.lastDataAt = Date.now();
    if (iso && (!live.lastData || iso > live.lastData)) live.lastData = iso;
    if (live.stale) setStale(false);
  }

  /* Stale data must look stale: a banner with the time of the last data, rows dimmed and their
   * badges shown as UNKNOWN (CSS on .mc-stale), until data flows again. */
  function setStale(on) {
    live.stale = on;
    document.documentElement.classList.toggle("mc-stale", on);
    var id = live.config.ids.stale;
    if (!on) {
      setProps(id, { children: null, className: "d-none" });
      return;
    }
    var when = live.lastData ? new Date(live.lastData) : null;
    var text =
      when && !isNaN(when)
        ? "No live data since " + when.toLocaleString([], { hour12: false }) + ". Statuses are unknown until the connection is back."
        : "No live data. Statuses are unknown until the connection is back.";
    setProps(id, {
      children: text,
      className: "alert alert-warning mb-0 py-1 px-3 w-100 mc-stale-banner",
      title: when && !isNaN(when) ? MC.isoLocal(live.lastData) : "",
    });
  }

  function clockText(clock) {
    if (!clock || !clock.last) return "Waiting for the first sweep";
    var text = "Last sweep " + MC.clockText(clock.last);
    if (live.stale) {
      var quiet = Math.round((Date.now() - live.lastDataAt) / 1000);
      return text + " · no live data for " + quiet + " s";
    }
    if (clock.next) {
      var secs = Math.round((Date.parse(clock.next) - Date.now()) / 1000);
      var grace = Math.max(5, Math.round(clock.interval_s || 0));
      // Never frozen at "now": a sweep that is late says by how much.
      text += secs > 0 ? " · next in " + secs + " s" : -secs <= grace ? " · next due now" : " · next sweep " + -secs + " s late";
    }
    return text;
  }

  function paintClock() {
    var element = live.config && document.getElementById(live.config.ids.clock);
    if (!element) return;
    var text = clockText(live.clock);
    if (element.textContent !== text) element.textContent = text;
    var title = live.clock && live.clock.last ? "Last sweep " + MC.isoLocal(live.clock.last) : "";
    if (element.title !== title) element.title = title;
  }

  function everySecond() {
    checkStale();
    paintClock();
  }

  function checkStale() {
    var limit = (live.config.interval_ms || 40000) + live.config.stale_grace_ms;
    var stale = live.state !== "live" && Date.now() - live.lastDataAt > limit;
    if (stale !== live.stale) setStale(stale);
  }

  /* A whole snapshot (on connect, from the HTTP fallback) or a sweep's delta (only the services
   * that changed): the rows, the sparklines' last points, the fleet head. */
  function applySweep(msg) {
    var services = msg.services || [];
    MC.tell.noteChanges(services, false);
    services.forEach(function (view) {
      MC.sparks.add(view, true); // a check we may have missed (the socket was down, a poll)
    });
    if (msg.type === "snapshot") {
      if (!msg.drawn) MC.table.setServices(services, msg.sweep);
    } else {
      services.forEach(MC.table.update);
      MC.table.setSweep(msg.sweep);
    }
    live.snapshot = Object.assign({}, live.snapshot || {}, headOf(msg));
    live.tickDue = true; // a sweep (or a recovery change) reached the history
    live.stats.snapshots[msg.sweep] = performance.now();
    MC.tell.showHead(live.snapshot);
    schedule(0);
  }

  /* plotly.js is not a page script (only the details chart needs it): once the first rows are painted,
   * fetch it from where dcc.Graph would (dash_app/dashboard.py serves the basic bundle there). */
  function preloadPlotly() {
    if (window.Plotly || live.plotlyAsked) return;
    live.plotlyAsked = true;
    var script = document.createElement("script");
    script.src = window._dashPlotlyJSURL || MC.prefix() + "_dash-component-suites/plotly/package_data/plotly.min.js";
    script.async = true;
    document.body.appendChild(script);
  }

  var arrived = []; // results not painted yet (their arrival times)
  function measurePaint() {
    var now = performance.now();
    // After the rows in view have their sparklines: plotly's parsing must not delay the first paint.
    if (!live.plotlyAsked && MC.table.loaded && !MC.sparks.asked.size && !MC.sparks.everyone) setTimeout(preloadPlotly, 300);
    var list = live.stats.resultPaint;
    arrived.forEach(function (at) {
      list.push(now - at);
    });
    arrived = [];
    if (list.length > 5000) list.splice(0, list.length - 2500);
  }

  function handle(msg) {
    live.stats.messages += 1;
    if (msg.type === "snapshot" || msg.type === "sweep") {
      fresh(msg.time);
      applySweep(msg);
    } else if (msg.type === "result" && msg.service) {
      var view = msg.service;
      fresh(view.last_checked);
      live.stats.results += 1;
      live.stats.lastResult = { name: view.name, status: view.status, at: performance.now() };
      MC.tell.noteChanges([view], false);
      MC.sparks.add(view);
      MC.table.update(view); // painted in the next frame, with its sparkline point
      arrived.push(performance.now());
      if (live.snapshot) {
        // The fleet's status and counts as the server computed them with this result.
        live.snapshot = Object.assign({}, live.snapshot, {
          overall: msg.overall || live.snapshot.overall,
          counts: msg.counts || live.snapshot.counts,
        });
        MC.tell.showHead(live.snapshot);
      }
      schedule(live.config.flush_ms); // results come in bursts: one header update for a burst
    } else if (msg.type === "recovery") {
      live.recoveries += 1;
      setProps(live.config.ids.recovery, { data: { n: live.recoveries, entry: msg.entry || null } });
      MC.tell.outcomeToast(msg.entry);
    }
  }

  /* Where this file and the connection (30_mc_live_connection.js, next in file-name order) meet: it
   * hands each message to handle and adds its own functions (opened and connect, for startLive). */
  var socket = (MC.liveSocket = { handle: handle });

  /* The details closed (Escape, the close button): focus goes back to the row it came from, not to
   * <body> (the row's button may have been re-rendered meanwhile, so find it by its service). */
  function returnFocus(name) {
    var tries = 0;
    (function attempt() {
      var open = document.querySelector("#" + live.config.ids.details + ".show");
      var active = document.activeElement;
      if (!open && (!active || active === document.body || !active.closest("tr.mc-row"))) {
        var rowEl = document.querySelector("tr.mc-row[data-service='" + CSS.escape(name) + "']");
        var button = rowEl && rowEl.querySelector("button.mc-row-open");
        if (button) {
          button.focus({ preventScroll: false });
          return;
        }
      }
      if ((tries += 1) < 20) setTimeout(attempt, 50);
    })();
  }

  var detail = { name: null, key: null };

  /* The open service's view for the details, when it changed (or the details just opened). */
  function detailData(selected, opening) {
    if (!selected) return null;
    var view = MC.table.view(selected);
    var key = JSON.stringify(view);
    var opened = detail.name !== selected;
    if (!opened && key === detail.key) return null;
    if (!opening && opened) return null; // the details' own callback opens them
    detail.name = selected;
    detail.key = key;
    return { name: selected, view: view, opened: opened };
  }

  var mc = (window.dash_clientside = window.dash_clientside || {}).mc || {};
  window.dash_clientside.mc = mc;
  Object.assign(mc, {
    /* Started by an initial clientside callback, i.e. once Dash has rendered the layout. */
    startLive: function (_boot, config, head) {
      if (!live.config) {
        live.stats.started = performance.now();
        live.config = config;
        live.snapshot = head && head.time ? head : null;
        live.lastData = head ? head.time : null;
        // The layout's stores and count hold this head already: a first snapshot of the same sweep
        // sets none of them again (each would be a renderer cycle and server callbacks before the rows).
        live.headKey = live.snapshot ? headKey(head) : null;
        live.tickKey = live.snapshot ? JSON.stringify([head.sweep, head.time]) : null;
        var count = document.getElementById(config.ids.count);
        if (count) MC.table.countText = count.textContent;
        MC.table.configure(config);
        MC.sparks.configure(config);
        MC.tell.notifyId = config.ids.notify;
        MC.tell.config = config;
        MC.table.afterRender = measurePaint;
        MC.table.onCount = function (text) {
          setProps(config.ids.count, { children: text });
        };
        if (head) MC.tell.updateFavicon(head.overall);
        MC.tell.syncNotifyButton();
        setInterval(everySecond, 1000);
        if ((config.table.services || 0) <= MC.table.VIRTUAL_MIN && !live.sparksAll) MC.sparks.needAll();
        if (live.ws) {
          // Opened while the page loaded (30_mc_live_early_start.js): its snapshot may be drawn already.
          if (live.ws.readyState === 1) socket.opened();
          live.early.splice(0).forEach(handle);
        } else socket.connect(); // the socket's first message is the whole snapshot: the rows (the layout has none)
      }
      return dc().no_update;
    },
    /* Filter, sort and selection: the table redraws in the next frame, no round trip. */
    tableView: function (sort, text, status, selected) {
      // No sort: the table's default, the server's (22_mc_table.js defaultSort, callbacks/view.py table_view).
      MC.table.setParams({ sort: sort || null, text: text || "", status: status || "all", selected: selected || "" });
      return dc().no_update;
    },
    /* The clock store changes once per sweep; the countdown between is a plain timer writing the
     * span's text (paintClock), not a Dash interval: each Dash update costs a renderer cycle. */
    sweepClock: function (clock) {
      live.clock = clock;
      paintClock();
      return dc().no_update;
    },
    /* Feeds the details drawer only while it is open, and only when its service changed. */
    detailView: function (_head, selected) {
      if (!selected) {
        if (detail.name) returnFocus(detail.name);
        detail.name = detail.key = null;
        return dc().no_update;
      }
      return detailData(selected, true) || dc().no_update;
    },
    detailTick: function (tick, selected) {
      return selected ? tick : dc().no_update;
    },
  });

  /* A click anywhere on a row (its name button included, which keyboard users reach) opens it. */
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest || !live.config) return;
    var row = target.closest("tr.mc-row");
    if (!row || target.closest("a, input, select, label")) return;
    setProps(live.config.ids.open, { data: { name: row.getAttribute("data-service"), n: MC.nextOpen() } });
  });
})();
