"""The script the page and the login form run in <head>, before any CSS (one copy, so one CSP hash)."""

from __future__ import annotations

from callbacks.common import TZ_COOKIE

# Runs in <head> before any CSS: the stored (or the system's) colour mode is set before the first
# paint, so a dark page never flashes white; and the browser's zone goes to the server as a cookie,
# so times on the page are the operator's own.
HEAD_SCRIPT = (
    "(function(){var d=document.documentElement,t=null;"
    "try{t=localStorage.getItem('mc-theme')}catch(e){}"
    "if(t!=='dark'&&t!=='light'){t=window.matchMedia&&matchMedia('(prefers-color-scheme: dark)').matches"
    "?'dark':'light'}d.setAttribute('data-bs-theme',t);"
    "try{document.cookie='" + TZ_COOKIE + "='+encodeURIComponent(Intl.DateTimeFormat().resolvedOptions().timeZone)"
    "+';path=/;SameSite=Lax'}catch(e){}})();"
)
