"""One JSON error shape for every API error: {"error": "...", "detail": ...} with the right code."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Raised by a handler to answer with `status` and the JSON error shape."""

    def __init__(self, status: int, error: str, detail: object = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


def error_response(status: int, error: str, detail: object = None) -> Response:
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    return response


def _is_api() -> bool:
    return request.path.startswith("/api")


def _api_methods(app: Flask) -> list[str]:
    """Methods for which an /api route exists at this path."""
    adapter = app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint.startswith("api."):
            allowed.append(method)
    return allowed


def _options(app: Flask) -> Response | None:
    """OPTIONS under /api lists the API's methods only (Dash's catch-all GET page route is not one)."""
    allowed = _api_methods(app)
    if not allowed:
        return None
    allowed += ["HEAD", "OPTIONS"] if "GET" in allowed else ["OPTIONS"]
    return Response(status=204, headers={"Allow": ", ".join(allowed)})


DASH_UPDATE = "/_dash-update-component"


def _too_large() -> Response:
    return error_response(413, "request body too large", {"limit_bytes": request.max_content_length})


def register_error_handlers(app: Flask) -> None:
    """JSON errors under /api; everything else keeps Flask's own pages."""

    @app.before_request
    def _api_body_limit() -> Response | None:
        # Werkzeug enforces MAX_CONTENT_LENGTH only when a handler reads the body; under /api every
        # request over it is refused, whether or not its route reads one.
        limit = request.max_content_length
        if _is_api() and limit is not None and (request.content_length or 0) > limit:
            return _too_large()
        return None

    @app.before_request
    def _api_paths_are_never_pages() -> Response | None:
        # Dash's catch-all page route would otherwise answer unknown /api paths with HTML.
        if _is_api() and request.method == "OPTIONS":
            return _options(app) or error_response(404, "no such endpoint", {"path": request.path})
        if not _is_api() or (request.blueprint or "").split(".")[0] == "api":  # api and those nested in it
            return None
        allowed = _api_methods(app)
        if allowed:
            response = error_response(405, "method not allowed", {"allowed": allowed})
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return error_response(404, "no such endpoint", {"path": request.path})

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.detail)

    @app.errorhandler(RequestEntityTooLarge)
    def _body_too_large(exc: RequestEntityTooLarge) -> Response | HTTPException:
        return _too_large() if _is_api() else exc  # a chunked body is only measured as it is read

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | HTTPException:
        if not _is_api():
            return exc
        detail = None
        if exc.code == 405 and exc.valid_methods:
            detail = {"allowed": sorted(exc.valid_methods)}
        response = error_response(exc.code or 500, (exc.name or "error").lower(), detail or exc.description)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if request.path == DASH_UPDATE:  # a hand-made callback request Dash cannot dispatch: the caller's error
            log.warning("bad Dash callback request from %s: %s: %s", request.remote_addr, type(exc).__name__, exc)
            return error_response(400, "bad callback request", type(exc).__name__)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error", type(exc).__name__)
