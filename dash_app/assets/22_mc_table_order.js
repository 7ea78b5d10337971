/* The health table's filter and sort, over every service (not only the rows drawn): the rules the
 * server's table had, ties by name and missing values last either way; the status order is the one
 * severity order of ops/fleet.py, sent by the server. */
(function () {
  "use strict";
  var MC = (window.MC = window.MC || {});
  var rank = {};

  function fleetStatus(v) {
    // ops/fleet.py fleet_status: what the service counts as in the fleet
    if (v.enabled === false) return "disabled";
    if (v.maintenance) return "maintenance";
    return v.status || "pending";
  }

  function matches(v, needle, status) {
    if (needle) {
      var hay = [v.name, v.target].concat(v.tags || []);
      if (
        !hay.some(function (s) {
          return (
            String(s || "")
              .toLowerCase()
              .indexOf(needle) !== -1
          );
        })
      )
        return false;
    }
    if (status === "problems") return v.status !== "up" || !!v.needs_attention;
    if (status === "maintenance") return !!v.maintenance || v.status === "maintenance";
    if (status && status !== "all") return v.status === status;
    return true;
  }

  function value(v, col) {
    if (col === "latency") return v.latency_ms === undefined ? null : v.latency_ms;
    if (col.indexOf("uptime_") === 0) {
      var u = (v.uptime || {})[col.slice(7)];
      return u === undefined ? null : u;
    }
    if (col === "failures") return v.consecutive_failures || 0;
    if (col === "last_checked") return v.last_checked || null;
    return null;
  }

  /* The status sort's key, ties by name: callbacks/view.py status_order is the same rule (the server
   * guesses the first rows with it): change both together. */
  function statusKey(v) {
    var r = rank[fleetStatus(v)];
    return [r === undefined ? 99 : r, v.needs_attention ? 0 : 1];
  }

  /* The names of the views that pass the filter, in the chosen order (`defaultSort` when none is). */
  MC.orderRows = function (names, views, params, severity, defaultSort) {
    rank = {};
    (severity || []).forEach(function (status, i) {
      rank[status] = i;
    });
    var sort = params.sort || defaultSort;
    var sign = sort.dir === "desc" ? -1 : 1;
    var needle = (params.text || "").trim().toLowerCase();
    var shown = [];
    names.forEach(function (name) {
      var v = views.get(name);
      if (v && matches(v, needle, params.status)) shown.push(v);
    });
    var lower = function (v) {
      return v.name.toLowerCase();
    };
    shown.sort(function (a, b) {
      return lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0;
    });
    if (sort.col === "name") {
      if (sign < 0) shown.reverse();
    } else if (sort.col === "status") {
      shown.sort(function (a, b) {
        var x = statusKey(a),
          y = statusKey(b);
        var c = x[0] - y[0] || x[1] - y[1];
        return sign * (c || (lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0));
      });
    } else {
      var known = shown.filter(function (v) {
        return value(v, sort.col) !== null;
      });
      var missing = shown.filter(function (v) {
        return value(v, sort.col) === null;
      });
      known.sort(function (a, b) {
        var x = value(a, sort.col),
          y = value(b, sort.col);
        return sign * (x < y ? -1 : x > y ? 1 : 0);
      });
      shown = known.concat(missing);
    }
    return shown.map(function (v) {
      return v.name;
    });
  };
})();
