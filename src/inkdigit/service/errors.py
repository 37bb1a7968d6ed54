"""One error shape for every failure: ``{"error": {"code": "...", "message": "..."}}``.

Codes are stable (clients branch on them); messages are sentences for people. Engine errors carry
their own codes, mapped to statuses here; the engine knows nothing of HTTP.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from inkdigit.engine.imageio import ImageInputError
from inkdigit.service.observability import ANSWERED

log = logging.getLogger("inkdigit.service")

# engine error code → HTTP status
IMAGE_ERROR_STATUS = {
    "empty_input": 400,
    "not_an_image": 415,
    "corrupt_image": 422,
    "invalid_image": 422,
    "image_too_large": 413,
    "image_too_wide": 413,
    "too_many_digits": 422,
    "unreadable_image": 422,
}


class APIError(Exception):
    """An error a client caused or must know about; rendered as the standard error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def from_image_error(exc: ImageInputError) -> APIError:
    """The one mapping of an unreadable image to its HTTP status, code and message."""
    return APIError(IMAGE_ERROR_STATUS.get(exc.code, 422), exc.code, str(exc))


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def image_error_body(exc: ImageInputError) -> dict[str, dict[str, str]]:
    """The error object of an unreadable image, as a batch answer puts it in that image's slot."""
    err = from_image_error(exc)
    return error_body(err.code, err.message)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 400: "bad_request"}


def install(app: FastAPI) -> None:
    """Register handlers so that no failure leaves the service as anything but the standard shape."""

    @app.exception_handler(APIError)
    async def _api(_: Request, exc: APIError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(ImageInputError)
    async def _image(_: Request, exc: ImageInputError) -> JSONResponse:
        err = from_image_error(exc)
        return error_response(err.status, err.code, err.message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{where or 'request'}: {e.get('msg', 'invalid')}")
        return error_response(422, "invalid_request", "The request is invalid: " + "; ".join(parts) + ".")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        message = detail if detail.endswith(".") else detail + "."
        if exc.status_code == 404:
            message = f"There is nothing at {request.method} {request.url.path}; see /docs for the API."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs for the API."
        return JSONResponse(error_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> Response:
        # the client left before its whole request arrived (or stopped sending its body, and the
        # server answered 408 itself: see inkdigit.service.protocol). Nothing can reach it: the
        # status, nginx's 499 "client closed request" unless the server answered, is for the logs
        status = int(request.scope.get(ANSWERED, 499))
        if status == 499:
            log.info("client disconnected before its request was read")
        return Response(status_code=status)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", exc)
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


def _doc(description: str) -> dict[str, object]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}


# documented on every route that takes an image
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: _doc("Empty body or unparseable request (`empty_body`, `empty_input`, `invalid_json`)."),
    404: _doc("Unknown model (`unknown_model`)."),
    413: _doc("Too many bytes or pixels (`payload_too_large`, `image_too_large`, `too_many_files`; "
              "/recognize: `image_too_wide`)."),
    415: _doc("Not an image, or an unaccepted Content-Type (`not_an_image`, `unsupported_media_type`)."),
    422: _doc("Corrupt or truncated image, bad base64, invalid option (`corrupt_image`, `unreadable_image`, "
              "`invalid_request`; /recognize: `too_many_digits`)."),
    503: _doc("The model is not loaded yet (`model_not_loaded`)."),
}
