/* The live page's connection: the WebSocket, its reconnects (backoff with jitter, a fresh port from
 * /api/info on each retry), the HTTP fallback that polls /api/health while the socket is down, and the
 * connection badge. Loads after 30_mc_live.js (assets load in file-name order): its state is
 * window.mcLive, and each message goes to MC.liveSocket.handle there. */
(function () {
  "use strict";
  var MC = window.MC;
  var live = window.mcLive;
  var socket = MC.liveSocket; // handle (30_mc_live.js); this file adds the socket's own functions

  function setProps(id, props) {
    window.dash_clientside.set_props(id, props);
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

  /* Controls with a "running" state stay disabled when their request failed (the server was
   * gone); once the connection is back they work again (unless the page is read-only). */
  function enableActions() {
    if (live.config.read_only) return;
    (live.config.ids.actions || []).forEach(function (id) {
      if (document.getElementById(id)) setProps(id, { disabled: false });
    });
  }

  function poll() {
    live.stats.polls += 1;
    fetch(MC.prefix() + "api/health", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (snapshot) {
        if (live.ws && live.ws.readyState === 1) return;
        setState("reconnecting"); // the server answers; only the socket is missing
        socket.handle(snapshot);
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
    live.reconnectTimer = setTimeout(connect, base * (0.8 + Math.random() * 0.4)); // backoff jitter: clients do not reconnect in lockstep
  }

  function opened() {
    if (live.downSince !== null) {
      enableActions();
      MC.sparks.reset(); // checks made while we were away: each row asks for its history again
      MC.table.schedule();
    }
    live.attempts = 0;
    live.downSince = null;
    live.stats.connects += 1;
    stopPolling();
    setState("live");
  }

  function open(url) {
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      if (live.config) retry();
      return;
    }
    attach(ws);
  }

  function receive(data) {
    var msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (live.config) socket.handle(msg);
    else socket.earlyMessage(msg); // only the early start attaches a socket before startLive
  }

  function attach(ws) {
    live.ws = ws;
    ws.onopen = function () {
      if (live.config) opened(); // else startLive does it
    };
    ws.onmessage = function (event) {
      receive(event.data);
    };
    ws.onclose = function () {
      if (live.ws !== ws) return;
      live.ws = null;
      live.early = [];
      if (live.config) retry(); // else startLive connects
    };
  }

  function openAt(port, path) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    open(scheme + location.hostname + ":" + port + (path || "/ws"));
  }

  function connect() {
    if (live.stats.connects === 0 && live.attempts === 0 && live.config.ws_port) {
      openAt(live.config.ws_port); // the page came with the port: no round trip before the first rows
      return;
    }
    // Ask on every retry: after a restart the socket may listen on another port (--ws-port 0).
    fetch(MC.prefix() + "api/info", { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (info) {
        if (!info.ws_port) throw new Error("no WebSocket port");
        openAt(info.ws_port, info.ws_path);
      })
      .catch(retry);
  }

  /* startLive (30_mc_live.js) calls opened and connect; the early start (30_mc_live_early_start.js, next
   * in file-name order) hands the head script's socket over through attach, receive and openAt, and
   * sets earlyMessage for what arrives before startLive. */
  Object.assign(socket, {
    opened: opened,
    connect: connect,
    attach: attach,
    receive: receive,
    openAt: openAt,
    earlyMessage: null,
  });
})();
