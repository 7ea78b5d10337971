"""The OpenAPI document is served, valid, and names exactly the /api routes the app registers."""

from __future__ import annotations

import re

import pytest
import requests
from openapi_spec_validator import OpenAPIV30SpecValidator, validate

from dash_app.factory import create_app
from dash_app.openapi import openapi_document
from tests.support import make_settings

IMPLICIT = {"HEAD", "OPTIONS"}  # Flask answers these for every route by itself
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def openapi_path(rule: str) -> str:
    """Werkzeug's /api/services/<name>/x (or <string:name>) -> OpenAPI's /api/services/{name}/x."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def registered_api_routes(flask_app) -> set[tuple[str, str]]:
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in flask_app.url_map.iter_rules()
        if rule.rule == "/api" or rule.rule.startswith("/api/")
        for method in rule.methods - IMPLICIT
    }


def documented_routes(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item if method in HTTP_METHODS}


@pytest.fixture(scope="module")
def built_app(tmp_path_factory):
    """The whole app, not serving: only its URL map is read."""
    settings = make_settings([{"name": "db", "type": "tcp", "port": 1}])
    app = create_app(settings, data_dir=tmp_path_factory.mktemp("openapi"), start_monitor=False)
    yield app
    app.stop()


def test_every_api_route_is_documented_and_nothing_else(built_app):
    registered = registered_api_routes(built_app.server)
    documented = documented_routes(openapi_document())
    assert registered, "no /api routes found: is the blueprint still registered under /api?"
    assert not registered - documented, f"routes without documentation: {sorted(registered - documented)}"
    assert not documented - registered, f"documented but not registered: {sorted(documented - registered)}"


def test_document_is_valid_openapi_3():
    doc = openapi_document()
    validate(doc)
    assert doc["openapi"].startswith("3.") and not list(OpenAPIV30SpecValidator(doc).iter_errors())


def test_every_error_response_uses_the_one_error_shape():
    doc = openapi_document()
    shared = doc["components"]["responses"]
    for path, item in doc["paths"].items():
        for method, operation in ((m, op) for m, op in item.items() if m in HTTP_METHODS):
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    target = shared[response["$ref"].rsplit("/", 1)[-1]] if "$ref" in response else response
                    schema = target["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)
            if "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), (path, method)


def test_every_path_parameter_is_declared():
    for path, item in openapi_document()["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), path


def test_openapi_json_is_served(running_app):
    response = requests.get(running_app.base + "/api/openapi.json", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert response.json() == openapi_document()


def test_route_paths_translate_to_openapi_templates():
    assert openapi_path("/api/services/<name>/reset") == "/api/services/{name}/reset"
    assert openapi_path("/api/x/<int:id>/<path:rest>") == "/api/x/{id}/{rest}"
