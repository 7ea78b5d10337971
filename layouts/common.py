"""Small pieces every panel uses: status badges (colour and text), icons, number formats."""

from __future__ import annotations

from dash import html

# status -> (text, Bootstrap colour, icon). Text and icon shape carry the meaning, not colour alone.
STATUS_STYLE: dict[str, tuple[str, str, str]] = {
    "up": ("UP", "success", "up"),
    "degraded": ("DEGRADED", "warning", "degraded"),
    "down": ("DOWN", "danger", "down"),
    "pending": ("PENDING", "secondary", "pending"),
    "maintenance": ("MAINTENANCE", "info", "maintenance"),
    "disabled": ("DISABLED", "secondary", "disabled"),
}
# The same statuses as chart colours (readable on the light and the dark background).
STATUS_HEX: dict[str, str] = {
    "up": "#198754",
    "degraded": "#fd7e14",
    "down": "#dc3545",
    "pending": "#6c757d",
    "maintenance": "#0dcaf0",
    "disabled": "#adb5bd",
}
OVERALL_TEXT = {
    "up": "All systems up",
    "degraded": "Degraded",
    "down": "Outage",
    "pending": "Waiting for checks",
    "maintenance": "All in maintenance",
}
NO_VALUE = "—"


def is_read_only(account: dict | None) -> bool:
    """Auth on and nobody logged in: every action control is disabled (the server refuses them anyway)."""
    return bool(account and account.get("enabled") and not account.get("user"))


def icon(name: str, class_name: str = "") -> html.I:
    """A Bootstrap icon drawn by CSS (assets/02_icons.css); decorative, so hidden from readers."""
    return html.I(className=f"mc-icon mc-icon-{name} {class_name}".strip(), **{"aria-hidden": "true"})


def status_text(status: str) -> str:
    return STATUS_STYLE.get(status, (status.upper(), "secondary", "pending"))[0]


def badge_class(status: str) -> str:
    """Classes of a status badge: colour, and the icon its ::before draws (assets/10_mission_control.css)."""
    _, colour, glyph = STATUS_STYLE.get(status, (status.upper(), "secondary", "pending"))
    return f"badge mc-badge mc-icon-{glyph} text-bg-{colour}"


def status_badge(status: str, **props) -> html.Span:
    """A badge with icon, colour and the status in words."""
    return html.Span(status_text(status), className=badge_class(status), **props)


# The recovery engine's flags on a service view: (view field, key, icon, colour, label).
FLAGS: tuple[tuple[str, str, str, str, str], ...] = (
    ("maintenance", "maintenance", "maintenance", "info", "Maintenance"),
    ("recovering", "recovering", "recovering", "primary", "Recovering"),
    ("needs_attention", "attention", "attention", "danger", "Needs attention"),
    # recovered again and again: the restarts work, something keeps knocking it over
    ("flapping", "flapping", "activity", "warning", "Flapping"),
)


def flag_badges(
    maintenance: bool = False, recovering: bool = False, needs_attention: bool = False, flapping: bool = False
) -> list:
    """The recovery engine's flags, as small outlined badges next to the status (22_mc_table.js draws
    the table's own from FLAGS too)."""
    on = dict(maintenance=maintenance, recovering=recovering, needs_attention=needs_attention, flapping=flapping)
    return [
        html.Span(
            [icon(glyph), html.Span(label, className="mc-flag-text")],
            className=f"badge mc-flag border border-{colour} text-{colour}-emphasis bg-{colour}-subtle",
            title=label,
            **{"data-flag": key},
        )
        for field, key, glyph, colour, label in FLAGS
        if on[field]
    ]


def fmt_ms(value: float | None) -> str:
    if value is None:
        return NO_VALUE
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def fmt_pct(value: float | None) -> str:
    if value is None:
        return NO_VALUE
    if value >= 100:
        return "100 %"
    return f"{value:.2f} %" if value >= 99 else f"{value:.1f} %"


def uptime_class(value: float | None) -> str:
    """Text colour for an uptime figure: the eye finds the bad ones first."""
    if value is None or value >= 99.9:
        return ""
    return "text-warning-emphasis" if value >= 99 else "text-danger-emphasis fw-semibold"
