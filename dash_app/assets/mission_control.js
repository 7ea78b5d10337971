/* Mission Control in the browser: the live WebSocket connection (with backoff and an HTTP
 * fallback), the sweep clock, the theme switch and whole-row clicks. Nothing here renders
 * components: it feeds dcc.Store ids (given by the server in LIVE_CONFIG) and the Python
 * callbacks do the rest. */
(function () {
  "use strict";

  var live = {
    config: null,
    ws: null,
    snapshot: null,
    initial: null,
    state: "connecting",
    attempts: 0,
    downSince: null,
    reconnectTimer: null,
    flushTimer: null,
    pollTimer: null,
    tickDue: false,
    recoveries: 0,
    stats: { messages: 0, snapshots: {}, polls: 0, connects: 0 },
  };
  window.mcLive = live; // read by the browser tests and bench/page_speed.py

  function dc() {
    return window.dash_clientside;
  }

  function setProps(id, props) {
    dc().set_props(id, props);
  }

  function prefix() {
    try {
      var config = JSON.parse(document.getElementById("_dash-config").textContent);
      return config.requests_pathname_prefix || "/";
    } catch (e) {
      return "/";
    }
  }

  function setState(state) {
    if (live.state === state) return;
    live.state = state;
    var s = live.config.states[state];
    setProps(live.config.ids.connection, {
      children: s.text,
      className: "badge rounded-pill text-bg-" + s.colour + " mc-connection",
      "data-state": state,
    });
  }

  function updateTitle(snapshot) {
    var down = 0;
    var degraded = 0;
    (snapshot.services || []).forEach(function (s) {
      if (s.status === "down") down += 1;
      if (s.status === "degraded") degraded += 1;
    });
    var prefixText = down ? "(" + down + " down) " : degraded ? "(" + degraded + " degraded) " : "";
    document.title = prefixText + "Mission Control";
  }

  function flush() {
    live.flushTimer = null;
    if (!live.snapshot) return;
    var ids = live.config.ids;
    setProps(ids.live, { data: live.snapshot });
    if (live.tickDue) {
      live.tickDue = false;
      setProps(ids.tick, { data: { sweep: live.snapshot.sweep, time: live.snapshot.time } });
    }
    updateTitle(live.snapshot);
  }

  function schedule(delay) {
    if (live.flushTimer !== null) {
      if (delay > 0) return; // a flush is already on its way
      clearTimeout(live.flushTimer);
    }
    live.flushTimer = setTimeout(flush, delay);
  }

  function handle(msg) {
    live.stats.messages += 1;
    if (msg.type === "snapshot") {
      var seen = live.initial;
      live.initial = null;
      if (seen && seen.time === msg.time) return; // the page was rendered from this very snapshot
      live.snapshot = msg;
      live.tickDue = true; // a snapshot means a sweep (or a recovery change) reached the history
      live.stats.snapshots[msg.sweep] = performance.now();
      schedule(0);
    } else if (msg.type === "result" && live.snapshot && msg.service) {
      var view = msg.service;
      live.snapshot = Object.assign({}, live.snapshot, {
        services: live.snapshot.services.map(function (s) {
          return s.name === view.name ? view : s;
        }),
      });
      schedule(live.config.flush_ms); // results come in bursts: one update for a burst
    } else if (msg.type === "recovery") {
      live.recoveries += 1;
      setProps(live.config.ids.recovery, { data: { n: live.recoveries, entry: msg.entry || null } });
    }
  }

  function poll() {
    live.stats.polls += 1;
    fetch(prefix() + "api/health", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (snapshot) {
        if (live.ws && live.ws.readyState === 1) return;
        setState("reconnecting"); // the server answers; only the socket is missing
        handle(snapshot);
      })
      .catch(function () {
        if (live.downSince !== null && Date.now() - live.downSince > live.config.offline_after_ms) {
          setState("offline");
        }
      });
  }

  function startPolling() {
    if (live.pollTimer === null) live.pollTimer = setInterval(poll, live.config.poll_ms);
  }

  function stopPolling() {
    if (live.pollTimer !== null) clearInterval(live.pollTimer);
    live.pollTimer = null;
  }

  function retry() {
    if (live.downSince === null) live.downSince = Date.now();
    if (live.state === "live" || live.state === "connecting") setState("reconnecting");
    startPolling();
    var base = Math.min(live.config.backoff_max_ms, 500 * Math.pow(2, live.attempts));
    live.attempts += 1;
    clearTimeout(live.reconnectTimer);
    live.reconnectTimer = setTimeout(connect, base * (0.8 + Math.random() * 0.4));  // backoff jitter: clients do not reconnect in lockstep
  }

  function open(url) {
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      retry();
      return;
    }
    live.ws = ws;
    ws.onopen = function () {
      live.attempts = 0;
      live.downSince = null;
      live.stats.connects += 1;
      stopPolling();
      setState("live");
    };
    ws.onmessage = function (event) {
      var msg;
      try {
        msg = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      handle(msg);
    };
    ws.onclose = function () {
      if (live.ws !== ws) return;
      live.ws = null;
      retry();
    };
  }

  function connect() {
    // Ask every time: after a restart the socket may listen on another port (--ws-port 0).
    fetch(prefix() + "api/info", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (info) {
        if (!info.ws_port) throw new Error("no WebSocket port");
        var scheme = location.protocol === "https:" ? "wss://" : "ws://";
        open(scheme + location.hostname + ":" + info.ws_port + (info.ws_path || "/ws"));
      })
      .catch(retry);
  }

  function clockText(iso) {
    var d = new Date(iso);
    return isNaN(d) ? null : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  var themeSynced = false;
  var detail = { name: null, key: null };
  var opens = 0;

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    mc: {
      /* Started by an initial clientside callback, i.e. once Dash has rendered the layout. */
      startLive: function (_boot, config, snapshot) {
        if (!live.config) {
          live.config = config;
          live.snapshot = snapshot;
          live.initial = snapshot ? { time: snapshot.time } : null;
          connect();
        }
        return dc().no_update;
      },
      sweepClock: function (_n, clock) {
        if (!clock || !clock.last) return "Waiting for the first sweep";
        var text = "Last sweep " + clockText(clock.last);
        if (clock.next) {
          var secs = Math.round((Date.parse(clock.next) - Date.now()) / 1000);
          text += secs > 0 ? " · next in " + secs + " s" : " · next due now";
        }
        return text;
      },
      /* Feeds the details drawer only while it is open, and only when its service changed. */
      detailView: function (snapshot, selected) {
        if (!selected || !snapshot) {
          detail.name = detail.key = null;
          return dc().no_update;
        }
        var view = (snapshot.services || []).find(function (s) {
          return s.name === selected;
        });
        var key = JSON.stringify(view || null);
        var opened = detail.name !== selected;
        if (!opened && key === detail.key) return dc().no_update;
        detail.name = selected;
        detail.key = key;
        return { name: selected, view: view || null, opened: opened };
      },
      detailTick: function (tick, selected) {
        return selected ? tick : dc().no_update;
      },
      /* The first call aligns the switch with the mode the head script chose; later calls apply and keep a choice. */
      theme: function (value) {
        var root = document.documentElement;
        var dark = root.getAttribute("data-bs-theme") === "dark";
        if (!themeSynced) {
          themeSynced = true;
          return dark !== !!value ? dark : dc().no_update;
        }
        var want = value ? "dark" : "light";
        if (root.getAttribute("data-bs-theme") !== want) {
          root.setAttribute("data-bs-theme", want);
          try {
            localStorage.setItem("mc-theme", want);
          } catch (e) {
            /* private mode: the choice lasts for this page only */
          }
        }
        return dc().no_update;
      },
    },
  });

  /* A click anywhere on a row (its name button included, which keyboard users reach) opens it. */
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest || !live.config) return;
    var row = target.closest("tr.mc-row");
    if (!row || target.closest("a, input, select, label")) return;
    opens += 1;
    setProps(live.config.ids.open, { data: { name: row.getAttribute("data-service"), n: opens } });
  });

  /* Live updates re-render the rows: keep the keyboard focus on the same service's button. */
  var focusedRow = null;
  document.addEventListener("focusin", function (event) {
    var button = event.target.closest ? event.target.closest("button.mc-row-open") : null;
    focusedRow = button ? button.closest("tr").getAttribute("data-service") : null;
  });
  new MutationObserver(function () {
    if (focusedRow === null || (document.activeElement && document.activeElement !== document.body)) return;
    var rows = document.querySelectorAll("tr.mc-row");
    for (var i = 0; i < rows.length; i += 1) {
      if (rows[i].getAttribute("data-service") === focusedRow) {
        var button = rows[i].querySelector("button.mc-row-open");
        if (button) button.focus({ preventScroll: true });
        return;
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
