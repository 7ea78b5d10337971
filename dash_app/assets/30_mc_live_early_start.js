/* The live page's early start, before Dash's renderer has run: take over the socket the page's head
 * script opened (dash_app/dashboard.py EARLY_SCRIPT) and the sparklines it asked for, and draw the
 * first snapshot's rows as soon as Dash has rendered the table's empty body. Loads after 30_mc_live.js
 * and 30_mc_live_connection.js (assets load in file-name order); startLive takes over what this began.
 * They meet at MC.liveSocket (the socket's functions) and window.mcLive (the connection's state). */
(function () {
  "use strict";
  var MC = window.MC;
  var live = window.mcLive;
  var socket = MC.liveSocket;

  /* Before startLive (the socket opened while Dash's scripts loaded) messages wait for it in
   * live.early, but the first snapshot's rows are drawn at once: into the table's body as soon as
   * Dash has rendered it, with the history of the rows that will be in view already asked for. */
  function earlyMessage(msg) {
    live.early.push(msg);
    if (msg.type !== "snapshot" || !live.boot || MC.table.loaded) return;
    var services = msg.services || [];
    MC.table.setServices(services, msg.sweep);
    msg.drawn = true;
    if (!live.sparksAll) {
      var rows = Math.ceil(window.innerHeight / live.boot.table.row_height) + MC.table.OVERSCAN;
      MC.sparks.need(MC.table.first(rows), true); // the table starts below the top: more than the screen holds
    }
    services.forEach(function (view) {
      MC.sparks.add(view, true); // a check newer than the history's answer
    });
    whenBody(live.boot.ids.table_body, function () {
      MC.table.renderNow();
      if (!live.config) live.stats.earlyRows = performance.now(); // drawn before startLive (tests/browser)
    });
  }
  socket.earlyMessage = earlyMessage;

  /* `then` once the element is in the page (Dash renders the layout long after this script ran). */
  function whenBody(id, then) {
    if (document.getElementById(id)) return then();
    var watch = new MutationObserver(function () {
      if (!document.getElementById(id)) return;
      watch.disconnect();
      then();
    });
    watch.observe(document.body, { childList: true, subtree: true });
  }

  /* The page carries the table's configuration (#mc-early, dash_app/dashboard.py) and its head script
   * opened the socket: take it over now, while Dash's scripts and layout load. A deep link's filter
   * or sort is Dash's to apply (31_mc_page.js), so such a page draws its rows once startLive ran. */
  (function earlyStart() {
    var element = document.getElementById("mc-early");
    var boot = null;
    try {
      boot = element && JSON.parse(element.textContent);
    } catch (e) {
      boot = null;
    }
    if (boot && boot.table && !/[?&](filter|status|sort)=/.test(location.search)) {
      live.boot = boot;
      MC.table.configure(boot);
      MC.sparks.configure(boot);
      if ((boot.table.services || 0) <= MC.table.VIRTUAL_MIN) {
        live.sparksAll = true; // every row will be drawn: ask for all of their history at once
        MC.sparks.needAll();
      }
    }
    var pre = window.mcEarly; // dash_app/dashboard.py EARLY_SCRIPT: the socket, what it said so far, sparklines
    if (pre) MC.sparks.adoptEarly(pre.sparks);
    if (pre && pre.ws && pre.ws.readyState <= 1) {
      socket.attach(pre.ws);
      pre.messages.splice(0).forEach(socket.receive);
    } else if (boot && boot.ws_port && window.WebSocket) socket.openAt(boot.ws_port);
  })();
})();
