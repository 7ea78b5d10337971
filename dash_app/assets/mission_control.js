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
    lastData: null, // ISO time of the newest data the page holds (a snapshot's or a check's)
    lastDataAt: Date.now(), // when it arrived here
    stale: false, // no data for one interval plus grace while the socket is down
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
    // The server's fleet counts (ops/fleet.py), never a sum of our own.
    var counts = snapshot.counts || {};
    var down = counts.down || 0;
    var degraded = counts.degraded || 0;
    var prefixText = down ? "(" + down + " down) " : degraded ? "(" + degraded + " degraded) " : "";
    document.title = prefixText + "Mission Control";
    updateFavicon(snapshot.overall);
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

  function fresh(iso) {
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
    var text = when && !isNaN(when)
      ? "No live data since " + when.toLocaleString([], { hour12: false }) + ". Statuses are unknown until the connection is back."
      : "No live data. Statuses are unknown until the connection is back.";
    setProps(id, {
      children: text,
      className: "alert alert-warning mb-0 py-1 px-3 w-100 mc-stale-banner",
      title: when && !isNaN(when) ? isoLocal(live.lastData) : "",
    });
  }

  function checkStale() {
    var limit = (live.config.interval_ms || 40000) + live.config.stale_grace_ms;
    var stale = live.state !== "live" && Date.now() - live.lastDataAt > limit;
    if (stale !== live.stale) setStale(stale);
  }

  /* Controls with a "running" state stay disabled when their request failed (the server was
   * gone); once the connection is back they work again (unless the page is read-only). */
  function enableActions() {
    if (live.config.read_only) return;
    (live.config.ids.actions || []).forEach(function (id) {
      if (document.getElementById(id)) setProps(id, { disabled: false });
    });
  }

  /* -- telling the operator: a toast per change of status and per recovery outcome, the favicon
   * in the worst status, and (opt-in) the browser's own notifications ------------------------ */
  var STATUS_WORD = { up: "UP", degraded: "DEGRADED", down: "DOWN", pending: "PENDING", maintenance: "MAINTENANCE" };
  var STATUS_HEX = { up: "#198754", degraded: "#fd7e14", down: "#dc3545", pending: "#6c757d", maintenance: "#0dcaf0" };
  var TOAST_COLOUR = { up: "success", degraded: "warning", down: "danger", pending: "secondary", recovered: "success" };
  var known = null; // name -> {status, attention} as last seen (null until the first data)
  var iconShown = null;

  function toastBox() {
    var box = document.getElementById("mc-toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "mc-toasts";
      box.className = "mc-toasts";
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", "Status changes");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    return box;
  }

  function toast(kind, title, body, notify) {
    var box = toastBox();
    var el = document.createElement("div");
    el.className = "toast show mc-live-toast border-0 text-bg-" + (TOAST_COLOUR[kind] || "secondary");
    el.setAttribute("role", "status");
    el.dataset.kind = kind;
    var row = document.createElement("div");
    row.className = "d-flex";
    var text = document.createElement("div");
    text.className = "toast-body";
    var strong = document.createElement("strong");
    strong.textContent = title;
    text.appendChild(strong);
    if (body) text.appendChild(document.createTextNode(" " + body));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close me-2 m-auto" + (kind === "degraded" ? "" : " btn-close-white");
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", function () {
      el.remove();
    });
    row.appendChild(text);
    row.appendChild(close);
    el.appendChild(row);
    box.appendChild(el);
    while (box.children.length > 5) box.removeChild(box.firstChild);
    setTimeout(function () {
      el.remove();
    }, 10000);
    live.stats.toasts = (live.stats.toasts || 0) + 1;
    if (notify) desktopNotify(title, body);
  }

  function notifyWanted() {
    try {
      return localStorage.getItem("mc-notify") === "on" && window.Notification && Notification.permission === "granted";
    } catch (e) {
      return false;
    }
  }

  function desktopNotify(title, body) {
    if (!notifyWanted()) return;
    try {
      new Notification(title, { body: body || "", tag: "mission-control-" + title });
    } catch (e) {
      /* some browsers only allow it from a service worker: the toast has said it */
    }
  }

  function syncNotifyButton() {
    var button = document.getElementById(live.config.ids.notify);
    if (!button) return;
    var on = notifyWanted();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.title = on ? "Desktop notifications are on (click to turn off)" : "Get a desktop notification when a service goes down, comes back or needs attention";
  }

  function noteChanges(services, initial) {
    var first = known === null;
    if (first) known = {};
    services.forEach(function (s) {
      var was = known[s.name];
      var now = { status: s.status, attention: !!s.needs_attention, maintenance: !!s.maintenance };
      known[s.name] = now;
      if (first || initial || !was || s.enabled === false || s.maintenance) return; // announced downtime is not news
      if (was.status !== now.status && now.status !== "pending") {
        var back = (now.status === "up" || now.status === "degraded") && was.status === "down";
        var title = s.name + (back ? " recovered: " : " is ") + (STATUS_WORD[now.status] || now.status);
        var why = now.status === "down" ? s.error || s.last_error || "" : "";
        toast(back ? "recovered" : now.status, title, why, now.status === "down" || back);
      }
      if (now.attention && !was.attention) {
        toast("down", s.name + " needs attention", "automatic recovery has given up", true);
      }
    });
  }

  function outcomeToast(entry) {
    if (!entry || !entry.outcome || entry.outcome === "running" || entry.outcome === "skipped") return;
    var lines = String(entry.output_tail || "").trim().split("\n");
    var ok = entry.outcome === "recovered";
    // Why it did not bring the service back: the error, else the action's last line of output.
    var reason = ok ? "" : entry.error || entry.reason || (entry.outcome === "still_down" ? "still down after verification" : "") || lines[lines.length - 1] || "";
    toast(ok ? "recovered" : "down", "Recovery of " + entry.service + ": " + entry.outcome.replace("_", " ").toUpperCase(), reason, !ok);
  }

  function updateFavicon(overall) {
    var colour = STATUS_HEX[overall] || STATUS_HEX.pending;
    if (iconShown === colour) return;
    iconShown = colour;
    var svg =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="' + colour +
      '"/><path d="M3 17h6l3-7 4 13 3-9 2 3h8" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';
    var href = "data:image/svg+xml," + encodeURIComponent(svg);
    document.querySelectorAll("link[rel~='icon']").forEach(function (link) {
      link.parentNode.removeChild(link);
    });
    var link = document.createElement("link");
    link.rel = "icon";
    link.type = "image/svg+xml";
    link.href = href;
    link.dataset.status = overall || "pending";
    document.head.appendChild(link);
  }

  function handle(msg) {
    live.stats.messages += 1;
    if (msg.type === "snapshot" || msg.type === "result") fresh(msg.time || (msg.service && msg.service.last_checked));
    if (msg.type === "snapshot") {
      var seen = live.initial;
      live.initial = null;
      noteChanges(msg.services || [], false);
      if (seen && seen.time === msg.time) return; // the page was rendered from this very snapshot
      live.snapshot = msg;
      live.tickDue = true; // a snapshot means a sweep (or a recovery change) reached the history
      live.stats.snapshots[msg.sweep] = performance.now();
      schedule(0);
    } else if (msg.type === "result" && live.snapshot && msg.service) {
      var view = msg.service;
      noteChanges([view], false);
      live.snapshot = Object.assign({}, live.snapshot, {
        services: live.snapshot.services.map(function (s) {
          return s.name === view.name ? view : s;
        }),
        // The fleet's status and counts as the server computed them with this result.
        overall: msg.overall || live.snapshot.overall,
        counts: msg.counts || live.snapshot.counts,
      });
      schedule(live.config.flush_ms); // results come in bursts: one update for a burst
    } else if (msg.type === "recovery") {
      live.recoveries += 1;
      setProps(live.config.ids.recovery, { data: { n: live.recoveries, entry: msg.entry || null } });
      outcomeToast(msg.entry);
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
      if (live.downSince !== null) enableActions();
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

  /* A moment in the browser's zone as ISO 8601 with its offset (what a time says on hover). */
  function isoLocal(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    var pad = function (n) {
      return String(n).padStart(2, "0");
    };
    var off = -d.getTimezoneOffset();
    var abs = Math.abs(off);
    return (
      d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + (off >= 0 ? "+" : "-") + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60)
    );
  }

  function clockText(iso) {
    var d = new Date(iso);
    return isNaN(d) ? null : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

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
          focusedRow = name;
          button.focus({ preventScroll: false });
          return;
        }
      }
      if ((tries += 1) < 20) setTimeout(attempt, 50);
    })();
  }

  var DEFAULT_SORT = { col: "status", dir: "asc" }; // callbacks/table.py DEFAULT_SORT
  var urlSeen = false;
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
          live.lastData = snapshot ? snapshot.time : null;
          if (snapshot) {
            noteChanges(snapshot.services || [], true);
            updateFavicon(snapshot.overall);
          }
          syncNotifyButton();
          setInterval(checkStale, 1000);
          connect();
        }
        return dc().no_update;
      },
      sweepClock: function (_n, clock) {
        if (!clock || !clock.last) return "Waiting for the first sweep";
        var text = "Last sweep " + clockText(clock.last);
        var element = document.getElementById(live.config ? live.config.ids.clock : "");
        if (element) element.title = "Last sweep " + isoLocal(clock.last);
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
      },
      /* Feeds the details drawer only while it is open, and only when its service changed. */
      detailView: function (snapshot, selected) {
        if (!selected || !snapshot) {
          if (detail.name && !selected) returnFocus(detail.name);
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
      /* Deep links, read: on load only what the URL says (no round trip for a plain URL); on
       * Back/Forward a missing parameter means its default. */
      fromUrl: function (search, selected, text, status, sort, win) {
        var nu = dc().no_update;
        var p = new URLSearchParams(search || "");
        var initial = !urlSeen;
        urlSeen = true;
        var out = [nu, nu, nu, nu, nu, nu];
        function want(i, key, fallback, current, parse) {
          if (!p.has(key) && initial) return;
          var value = p.has(key) ? (parse ? parse(p.get(key)) : p.get(key)) : fallback;
          if (JSON.stringify(value) !== JSON.stringify(current)) out[i] = value;
        }
        want(0, "filter", "", text || "");
        want(1, "status", "all", status || "all");
        want(2, "sort", DEFAULT_SORT, sort || DEFAULT_SORT, function (v) {
          var parts = v.split(".");
          return { col: parts[0], dir: parts[1] === "desc" ? "desc" : "asc" };
        });
        want(3, "window", "1h", win || "1h");
        var service = p.get("service") || "";
        if (service && service !== selected) {
          opens += 1;
          out[4] = { name: service, n: opens };
        }
        if (!service && selected) out[5] = false; // Back closes the details
        return out;
      },
      /* Deep links, written: opening a service pushes a history entry (so Back closes it). */
      toUrl: function (selected, text, status, sort, win) {
        var p = new URLSearchParams();
        if (selected) p.set("service", selected);
        if (text) p.set("filter", text);
        if (status && status !== "all") p.set("status", status);
        if (sort && (sort.col !== DEFAULT_SORT.col || sort.dir !== DEFAULT_SORT.dir)) p.set("sort", sort.col + "." + sort.dir);
        if (win && win !== "1h") p.set("window", win);
        var query = p.toString();
        var url = location.pathname + (query ? "?" + query : "") + location.hash;
        if (url === location.pathname + location.search + location.hash) return dc().no_update;
        var shown = new URLSearchParams(location.search).get("service") || "";
        if (selected && !shown) {
          history.pushState({ mc: "details" }, "", url);
        } else if (!selected && shown && history.state && history.state.mc === "details") {
          history.back(); // closed on the page: leave the entry the opening pushed
        } else {
          history.replaceState(history.state, "", url);
        }
        return dc().no_update;
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

  /* An action refused by the server (401: not logged in or the session ended; 403: CSRF or origin)
   * is said plainly, with a link to log in, and its dialog closes. Dash gets "no update" (204):
   * its own error path would read the body a second time ("body stream already read"). */
  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    var answer = realFetch(input, init);
    if (url.indexOf("_dash-update-component") === -1) return answer;
    return answer.then(function (res) {
      if (res.status !== 401 && res.status !== 403) return res;
      return res
        .clone()
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          refused(res.status, body);
          return new Response(null, { status: 204 });
        });
    });
  };

  function refused(status, body) {
    if (!live.config) return;
    var ids = live.config.ids;
    var text =
      status === 401
        ? "Not done: this action needs a login (or your session has ended)."
        : "Not done: the server refused it (" + ((body && body.error) || "forbidden") + "). Reload the page or log in again.";
    setProps(ids.auth_text, { children: text });
    setProps(ids.auth_alert, { is_open: true });
    (ids.dialogs || []).forEach(function (id) {
      setProps(id, { is_open: false });
    });
  }

  /* The opt-in for desktop notifications: asks the browser's permission on the first click. */
  document.addEventListener("click", function (event) {
    if (!live.config || !event.target.closest) return;
    var button = event.target.closest("#" + live.config.ids.notify);
    if (!button) return;
    var on = notifyWanted();
    try {
      localStorage.setItem("mc-notify", on ? "off" : "on");
    } catch (e) {
      /* private mode: nothing to remember */
    }
    if (!on && window.Notification && Notification.permission !== "granted") {
      Notification.requestPermission().then(syncNotifyButton, syncNotifyButton);
    }
    syncNotifyButton();
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

  /* The heartbeat strip's up checks come as one thick line per run (callbacks/sparklines.py): dash it
   * into one block per slot. SVG restarts the dash at each subpath, so blocks line up with slots. */
  function dashBeats(gd) {
    var axis = gd._fullLayout && gd._fullLayout.xaxis2;
    if (!axis || !axis._length) return;
    var slot = axis._length / (axis.range[1] - axis.range[0]);
    var pattern = (slot * 0.6).toFixed(2) + "px " + (slot * 0.4).toFixed(2) + "px";
    gd.querySelectorAll("path.js-line").forEach(function (path) {
      if (path.style.strokeWidth === "6px") path.style.strokeDasharray = pattern;
    });
  }

  function watchSparks() {
    var gd = document.querySelector("#mc-spark-graph .js-plotly-plot");
    if (!gd || gd.__mcBeats || !gd.on) return;
    gd.__mcBeats = true;
    gd.on("plotly_afterplot", function () {
      dashBeats(gd);
    });
    dashBeats(gd);
  }

  /* Live updates re-render the rows: keep the keyboard focus on the same service's button. */
  var focusedRow = null;
  document.addEventListener("focusin", function (event) {
    var button = event.target.closest ? event.target.closest("button.mc-row-open") : null;
    focusedRow = button ? button.closest("tr").getAttribute("data-service") : null;
  });
  new MutationObserver(function () {
    watchSparks();
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
