"""Component ids shared by layouts/ and callbacks/: a renamed id breaks at import time, not in the browser."""

from __future__ import annotations

# -- stores (state the browser holds) -----------------------------------------------------------
LIVE = "mc-live"  # the fleet head of the latest snapshot (no services: the browser keeps those, 30_mc_live.js)
TICK = "mc-tick"  # {"sweep", "time"}: set when a whole sweep arrives, i.e. when the history grew
RECOVERY_EVENT = "mc-recovery-event"  # {"n", "entry"}: the latest "recovery" message
LIVE_CONFIG = "mc-live-config"  # what assets/live.js needs: the ids above, flush and poll timings
CLOCK = "mc-clock"  # {"last", "next", "interval_s"}: when the last sweep ran and the next is due
SELECTED = "mc-selected"  # the service whose details are open, or None
OPEN_REQUEST = "mc-open-request"  # {"name", "n"}: a row was clicked (assets/30_mc_live.js)
DETAIL_VIEW = "mc-detail-view"  # the open service's view, fed only while details are open (no idle round trips)
DETAIL_TICK = "mc-detail-tick"  # TICK, fed only while details are open
CHART_KEY = "mc-chart-key"  # "service|window" of the figure the details chart holds (patch only that one)
SORT = "mc-sort"  # {"col", "dir"}
URL = "mc-url"  # dcc.Location: ?service=&filter=&status=&sort=&window= (deep links; Back closes the details)
URL_SYNC = "mc-url-sync"  # a dummy the URL-writing clientside callback outputs to
BOOT = "mc-boot"  # a dummy whose initial callback starts the live connection once the page has rendered

# -- header ---------------------------------------------------------------------------------------
OVERALL = "mc-overall"
SWEEP_CLOCK = "mc-sweep-clock"
CONNECTION = "mc-connection"
CHECK_NOW = "mc-check-now"
THEME_SWITCH = "mc-theme-switch"
TOAST = "mc-toast"
NOTIFY_TOGGLE = "mc-notify-toggle"  # opt-in desktop notifications (assets/23_mc_tell.js handles clicks)
STALE_BANNER = "mc-stale-banner"  # "no live data since ..." (assets/30_mc_live.js shows it)
AUTH_ALERT = "mc-auth-alert"  # an action refused with 401/403: what happened and a link to log in
AUTH_TEXT = "mc-auth-text"

# -- summary cards --------------------------------------------------------------------------------
CARDS = "mc-cards"

# -- health table ---------------------------------------------------------------------------------
FILTER_TEXT = "mc-filter-text"
STATUS_FILTER = "mc-status-filter"
TABLE_COUNT = "mc-table-count"
TABLE_BODY = "mc-table-body"
TABLE = "mc-table"
SORT_SELECT = "mc-sort-select"  # the phone's sort control
SORT_BUTTON = "mc-sort-button"  # pattern id type: {"type": SORT_BUTTON, "col": ...}
SORT_HEADER = "mc-sort-header"  # pattern id type: {"type": SORT_HEADER, "col": ...} (its aria-sort)
EXPORT_WINDOW = "mc-export-window"
EXPORT_BUTTON = "mc-export-button"
DOWNLOAD = "mc-download"

# -- service details ------------------------------------------------------------------------------
DETAILS = "mc-details"
DETAILS_TITLE = "mc-details-title"
DETAILS_PROBE = "mc-details-probe"
DETAILS_ERROR = "mc-details-error"
DETAILS_WINDOW = "mc-details-window"
DETAILS_CHART = "mc-details-chart"
DETAILS_CHECKS = "mc-details-checks"
DETAILS_RECOVERIES = "mc-details-recoveries"
DETAILS_CHECK = "mc-details-check"
DETAILS_RECOVER = "mc-details-recover"
DETAILS_CSV = "mc-details-csv"
DETAILS_RESULT = "mc-details-result"
MAINT_SWITCH = "mc-maint-toggle"  # a button: start / end maintenance (the name is what dash_app.factory guards)
MAINT_DURATION = "mc-maint-duration"
RECOVER_MODAL = "mc-recover-modal"
RECOVER_MODAL_BODY = "mc-recover-modal-body"
RECOVER_FORCE = "mc-recover-force"
RECOVER_CONFIRM = "mc-recover-confirm"
RECOVER_CANCEL = "mc-recover-cancel"

# -- recovery log ---------------------------------------------------------------------------------
LOG_BODY = "mc-log-body"
LOG_CLEAR = "mc-log-clear"
LOG_RESULT = "mc-log-result"
CLEAR_MODAL = "mc-clear-modal"
CLEAR_CONFIRM = "mc-clear-confirm"
CLEAR_CANCEL = "mc-clear-cancel"

# -- notifications (issue 11) ---------------------------------------------------------------------
NOTIFY_BODY = "mc-notify-body"  # the delivery log's rows
NOTIFY_TARGET = "mc-notify-target"
NOTIFY_TEST = "mc-notify-test"  # the test button (a state change: dash_app.factory guards it)
NOTIFY_RESULT = "mc-notify-result"
NOTIFY_REFRESH = "mc-notify-refresh"
