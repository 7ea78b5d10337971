/* Telling the operator: a toast per change of status and per recovery outcome, the favicon in the
 * worst status, and (opt-in) the browser's own notifications. Fed by 30_mc_live.js. */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var tell = { notifyId: null, stats: { toasts: 0 } };
  MC.tell = tell;
  var STATUS_HEX = MC.STATUS_HEX;
  var TOAST_COLOUR = { up: "success", degraded: "warning", down: "danger", pending: "secondary", recovered: "success" };
  var known = null; // Map: name -> {status, attention} as last seen (null until the first data)
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
    tell.stats.toasts += 1;
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
    var button = document.getElementById(tell.notifyId);
    if (!button) return;
    var on = notifyWanted();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.title = on
      ? "Desktop notifications are on (click to turn off)"
      : "Get a desktop notification when a service goes down, comes back or needs attention";
  }

  /* A change of status worth a toast. Pending is "not known yet" (a failed check below the failure
   * threshold, or no check so far): going to it, or from it back to up, announces nothing. A change to
   * up is news only after a problem that was told (down or degraded). */
  function isNews(was, now) {
    if (was === now || now === "pending") return false;
    return now !== "up" || was === "down" || was === "degraded";
  }

  function noteChanges(services, initial) {
    var first = known === null;
    if (first) known = new Map();
    services.forEach(function (s) {
      var was = known.get(s.name);
      var now = { status: s.status, attention: !!s.needs_attention, maintenance: !!s.maintenance };
      known.set(s.name, now);
      if (first || initial || !was || s.enabled === false || s.maintenance) return; // announced downtime is not news
      if (isNews(was.status, now.status)) {
        var back = (now.status === "up" || now.status === "degraded") && was.status === "down";
        var title = s.name + (back ? " recovered: " : " is ") + MC.statusWord(now.status);
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
    var lines = String(entry.output_tail || "")
      .trim()
      .split("\n");
    var ok = entry.outcome === "recovered";
    // Why it did not bring the service back: the error, else the action's last line of output.
    var reason = ok
      ? ""
      : entry.error ||
        entry.reason ||
        (entry.outcome === "still_down" ? "still down after verification" : "") ||
        lines[lines.length - 1] ||
        "";
    toast(ok ? "recovered" : "down", "Recovery of " + entry.service + ": " + entry.outcome.replace("_", " ").toUpperCase(), reason, !ok);
  }

  function updateFavicon(overall) {
    var colour = STATUS_HEX[overall] || STATUS_HEX.pending;
    if (iconShown === colour) return;
    iconShown = colour;
    var svg =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="' +
      colour +
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

  /* The opt-in for desktop notifications: asks the browser's permission on the first click. */
  document.addEventListener("click", function (event) {
    if (!tell.notifyId || !event.target.closest) return;
    var button = event.target.closest("#" + tell.notifyId);
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

  /* The fleet badge and the counts that explain it (layouts/header.py overall_badge draws the first),
   * in the same frame as the rows; the tab's title and the favicon say the same. */
  function overallChildren(status, counts) {
    var style = tell.config.table.status_style[status] || ["", "secondary", "pending"];
    var problems = ["down", "degraded", "pending", "maintenance"]
      .filter(function (k) {
        return counts[k];
      })
      .map(function (k) {
        return counts[k] + " " + k;
      });
    var span = function (props) {
      return { namespace: "dash_html_components", type: "Span", props: props };
    };
    var glyph = {
      namespace: "dash_html_components",
      type: "I",
      props: { className: "mc-icon mc-icon-" + style[2], "aria-hidden": "true" },
    };
    return [
      span({
        children: [glyph, tell.config.overall_text[status] || status],
        className: "badge text-bg-" + style[1] + " mc-overall-badge",
        "data-status": status,
      }),
      span({ children: problems.join(", "), className: "small text-body-secondary ms-2 d-none d-sm-inline" }),
    ];
  }

  tell.showHead = function (head) {
    var overallKey = JSON.stringify([head.overall, head.counts]);
    if (overallKey !== tell.overallKey) {
      tell.overallKey = overallKey;
      window.dash_clientside.set_props(tell.config.ids.overall, {
        children: overallChildren(head.overall || "pending", head.counts || {}),
      });
    }
    // The server's fleet counts (ops/fleet.py), never a sum of our own.
    var counts = head.counts || {};
    var down = counts.down || 0;
    var degraded = counts.degraded || 0;
    var prefixText = down ? "(" + down + " down) " : degraded ? "(" + degraded + " degraded) " : "";
    document.title = prefixText + "Mission Control";
    updateFavicon(head.overall);
  };

  tell.noteChanges = noteChanges;
  tell.outcomeToast = outcomeToast;
  tell.updateFavicon = updateFavicon;
  tell.syncNotifyButton = syncNotifyButton;
  tell.notifyWanted = notifyWanted;
})();
