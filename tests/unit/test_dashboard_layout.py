"""The page's structure: pure layouts with unique ids, import direction, local assets only."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from layouts import ids
from layouts.page import page_layout

ROOT = Path(__file__).resolve().parents[2]
LAYOUT_IMPORTS = {"dash", "dash_bootstrap_components", "plotly", "layouts", "__future__"}
FORBIDDEN_IN_CALLBACKS = {"dash_app"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "layouts").glob("*.py")), ids=lambda p: p.name)
def test_layouts_import_only_dash_dbc_and_plotly(path):
    stdlib_ok = {"typing", "collections", "dataclasses"}
    assert imported_roots(path) - LAYOUT_IMPORTS - stdlib_ok == set()


@pytest.mark.parametrize("path", sorted((ROOT / "callbacks").glob("*.py")), ids=lambda p: p.name)
def test_callbacks_never_import_the_composition_root(path):
    assert imported_roots(path) & FORBIDDEN_IN_CALLBACKS == set()


def test_id_constants_are_unique():
    values = [v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)]
    assert len(values) == len(set(values))


def minimal_view() -> dict:
    snapshot = {
        "type": "snapshot",
        "time": "2026-01-01T00:00:00+00:00",
        "sweep": 1,
        "overall": "up",
        "services": [{"name": "a", "target": "t", "status": "up", "tags": []}],
        "system": {},
    }
    return {
        "snapshot": snapshot,
        "overall": "up",
        "counts": {"up": 1},
        "clock": {},
        "clock_text": "Last sweep 00:00:00",
        "summary": {"up": 1, "total": 1},
        "count_text": "1 services",
        "spark_points": 60,
        "sort": {"col": "status", "dir": "asc"},
        "log_entries": [],
    }


def component_ids(node) -> list:
    found = []
    if isinstance(node, dict):
        if node.get("namespace") and isinstance(node.get("props"), dict) and "id" in node["props"]:
            found.append(json.dumps(node["props"]["id"], sort_keys=True))
        for value in node.values():
            found += component_ids(value)
    elif isinstance(node, list):
        for value in node:
            found += component_ids(value)
    return found


def test_page_layout_builds_with_unique_component_ids():
    layout = json.loads(json.dumps(page_layout(minimal_view()).to_plotly_json(), default=lambda o: o.to_plotly_json()))
    found = component_ids(layout)
    assert len(found) == len(set(found)), [i for i in found if found.count(i) > 1]
    assert '"target": "t"' not in json.dumps(layout)  # the rows come over the socket, not in the layout
    for needed in (ids.LIVE, ids.TABLE_BODY, ids.SORT_SELECT, ids.DETAILS, ids.CONNECTION, ids.THEME_SWITCH):
        assert json.dumps(needed) in found


@pytest.fixture
def client(tmp_path):
    from config import settings_from_dict
    from dash_app.factory import create_app

    settings = settings_from_dict({"services": [{"name": "svc", "type": "tcp", "port": 9}], "interval_s": 60})
    app = create_app(settings, data_dir=tmp_path, start_monitor=False)
    yield app.server.test_client()
    app.stop()


def test_the_page_asks_only_its_own_server(client):
    html = client.get("/").get_data(as_text=True)
    assert "<title>Mission Control</title>" in html
    assert "data-bs-theme" in html  # the colour mode is set in <head>, before the first paint
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), url
    assert "00_bootstrap.min.css" in html
    assert "plotly-basic" not in html and "plotly.min.js" not in html  # only the details chart needs it
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and b"mc-table-body" in layout.data


def test_vendored_plotly_is_the_version_plotly_py_expects(client):
    from plotly.offline import get_plotlyjs_version

    assets = ROOT / "dash_app" / "assets"
    bundle = next(assets.glob("plotly-basic-*.min.js"))
    head = bundle.read_text(encoding="utf-8")[:300]
    assert f"v{get_plotlyjs_version()}" in head and get_plotlyjs_version() in bundle.name
    # dcc.Graph's URL for plotly.js serves this basic bundle, never the 4.8 MB full one.
    served = client.get("/_dash-component-suites/plotly/package_data/plotly.min.js")
    assert served.status_code == 200 and served.get_data() == bundle.read_bytes()
    assert "5.3.8" in (assets / "00_bootstrap.min.css").read_text(encoding="utf-8")[:200]


def test_no_asset_points_at_a_cdn():
    assets = ROOT / "dash_app" / "assets"
    for path in assets.iterdir():
        if path.suffix in (".css", ".js"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not re.search(r"url\(\s*['\"]?https?://", text), path.name
            assert "sourceMappingURL" not in text, path.name
