/* The page's own browser work: deep links (the URL holds the open service, filter, sort and window),
 * the theme switch, and actions the server refused. Clientside callbacks of callbacks/url.py and
 * callbacks/header.py. */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var urlSeen = false;
  var themeSynced = false;
  var opens = 0;

  /* Each request to open a service is new (a second click on the same row opens it again). */
  MC.nextOpen = function () {
    opens += 1;
    return opens;
  };

  function dc() {
    return window.dash_clientside;
  }

  function setProps(id, props) {
    dc().set_props(id, props);
  }

  /* What a deep link may say, from the server (layouts/table.py table_config): anything else means
   * the default. */
  function allowed(config) {
    var table = (config && config.table) || {};
    var columns = (table.columns || []).map(function (c) {
      return c.key;
    });
    return {
      status: table.status_filters || [],
      window: table.windows || [],
      sort: function (value) {
        var parts = value.split(".");
        return parts.length === 2 && columns.indexOf(parts[0]) !== -1 && (parts[1] === "asc" || parts[1] === "desc");
      },
    };
  }

  /* The table's order when a link says none: the server's (LIVE_CONFIG's table.sort, callbacks/view.py
   * table_view), the one the table itself falls back on (22_mc_table.js defaultSort), so no copy here. */
  function defaultSort(config) {
    return (config && config.table && config.table.sort) || MC.table.defaultSort;
  }

  function isAllowed(rule, value) {
    return typeof rule === "function" ? rule(value) : rule.indexOf(value) !== -1;
  }

  /* dcc.Location only hears popstate, not our pushState/replaceState: it is told each URL we write,
   * or Back to a URL it already holds (a plain "/") would be no change and never reach fromUrl. */
  var written = null; // the search we wrote last; fromUrl leaves it alone (the view already says it)
  function tellLocation(urlId) {
    written = location.search;
    setProps(urlId, { search: location.search, href: location.href });
  }
  window.addEventListener("popstate", function () {
    written = null; // Back/Forward: whatever the URL says now is news, even a URL we wrote before
  });

  /* Drops what the page cannot show from the URL, so it never keeps saying it. */
  function dropFromUrl(keys, urlId) {
    var p = new URLSearchParams(location.search);
    keys.forEach(function (key) {
      p.delete(key);
    });
    var query = p.toString();
    history.replaceState(history.state, "", location.pathname + (query ? "?" + query : "") + location.hash);
    tellLocation(urlId);
  }

  var mc = (window.dash_clientside = window.dash_clientside || {}).mc || {};
  window.dash_clientside.mc = mc;
  Object.assign(mc, {
    /* Deep links, read: on load only what the URL says (no round trip for a plain URL); on
     * Back/Forward a missing or unknown parameter means its default. */
    fromUrl: function (search, selected, text, status, sort, win, config, shown) {
      var nu = dc().no_update;
      var out = [nu, nu, nu, nu, nu, nu];
      if (search === written) return out; // our own write, told to dcc.Location
      var p = new URLSearchParams(search || "");
      var initial = !urlSeen;
      urlSeen = true;
      var rules = allowed(config);
      var unknown = ["status", "sort", "window"].filter(function (key) {
        return p.has(key) && !isAllowed(rules[key], p.get(key));
      });
      unknown.forEach(function (key) {
        p.delete(key);
      });
      function want(i, key, fallback, current, parse) {
        if (!p.has(key) && initial) return;
        var value = p.has(key) ? (parse ? parse(p.get(key)) : p.get(key)) : fallback;
        if (JSON.stringify(value) !== JSON.stringify(current)) out[i] = value;
      }
      want(0, "filter", "", text || "");
      want(1, "status", "all", status || "all");
      var fallback = defaultSort(config);
      want(2, "sort", fallback, sort || fallback, function (v) {
        var parts = v.split(".");
        return { col: parts[0], dir: parts[1] };
      });
      want(3, "window", "1h", win || "1h");
      var service = p.get("service") || "";
      // Forward soon after Back: the details are closed but the server has not yet cleared SELECTED.
      if (service && (service !== selected || !shown)) {
        out[4] = { name: service, n: MC.nextOpen() };
      }
      if (!service && selected) out[5] = false; // Back closes the details
      if (unknown.length && config) dropFromUrl(unknown, config.ids.url);
      return out;
    },
    /* Deep links, written: opening a service pushes a history entry (so Back closes it). */
    toUrl: function (selected, text, status, sort, win, config) {
      var p = new URLSearchParams();
      if (selected) p.set("service", selected);
      if (text) p.set("filter", text);
      if (status && status !== "all") p.set("status", status);
      var fallback = defaultSort(config);
      if (sort && (sort.col !== fallback.col || sort.dir !== fallback.dir)) p.set("sort", sort.col + "." + sort.dir);
      if (win && win !== "1h") p.set("window", win);
      var query = p.toString();
      var url = location.pathname + (query ? "?" + query : "") + location.hash;
      if (url === location.pathname + location.search + location.hash) return dc().no_update;
      var shown = new URLSearchParams(location.search).get("service") || "";
      if (selected && !shown) {
        history.pushState({ mc: "details" }, "", url);
      } else if (!selected && shown && history.state && history.state.mc === "details") {
        history.back(); // closed on the page: leave the entry the opening pushed (dcc.Location hears it)
        return dc().no_update;
      } else {
        history.replaceState(history.state, "", url);
      }
      tellLocation(config.ids.url);
      return dc().no_update;
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
    var live = window.mcLive;
    if (!live || !live.config) return;
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
})();
