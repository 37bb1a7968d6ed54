"""One error shape for every failure: ``{"error": {"code": "...", "message": "..."}}``.

Codes are stable (clients branch on them); messages are sentences for people. Engine errors carry
their own codes, mapped to statuses here; the engine knows nothing of HTTP.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from inkdigit.engine.imageio import ImageInputError
from inkdigit.service.observability import ANSWERED
from inkdigit.service.security import HEADERS as SECURITY_HEADERS

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


#: every error code the service answers with, its status and when: the one list, from which the
#: README's table is made (``python -m inkdigit.service.errors``; a test holds the two equal, and
#: another holds every code the source raises to this list)
ERROR_CODES: dict[str, tuple[int, str]] = {
    "empty_body": (400, "the request has no body"),
    "empty_input": (400, "the image file is empty (0 bytes)"),
    "invalid_json": (400, "the body is not JSON, or holds more than 32 arrays and objects"),
    "invalid_multipart": (400, "the multipart body cannot be parsed"),
    "bad_request": (400, "the request is malformed"),
    "bad_credentials": (400, "sign-in: the e-mail address or the password is wrong"),
    "not_verified": (400, "sign-in: the address is not confirmed yet"),
    "already_verified": (400, "confirmation: the address is confirmed already (the link was valid)"),
    "invalid_token": (400, "a confirmation or reset token is not valid, has expired or was used"),
    "not_authenticated": (401, "the route needs a signed-in user, or the session or token sent has ended"),
    "forbidden": (403, "the route is for operators (accounts promoted with inkdigit users promote)"),
    "csrf_failed": (403, "a cookie-authenticated write without the CSRF token, or from another site"),
    "not_found": (404, "nothing at this path"),
    "unknown_model": (404, "no model has this name"),
    "method_not_allowed": (405, "the path does not take this method"),
    "request_timeout": (408, "the request head or body did not arrive in time"),
    "payload_too_large": (413, "the body is larger than the upload limit"),
    "image_too_large": (413, "the image has too many pixels, or would take too much memory to decode"),
    "too_many_files": (413, "a batch holds more files than the batch limit"),
    "image_too_wide": (413, "/recognize: the image is wider than its limit"),
    "uri_too_long": (414, "the URL alone is larger than the request head limit"),
    "not_an_image": (415, "the file is not an image in a format the server reads"),
    "unsupported_media_type": (415, "the Content-Type is not one the route takes"),
    "corrupt_image": (422, "the image is truncated or damaged"),
    "invalid_image": (422, "the image cannot be read as one"),
    "unreadable_image": (422, "reading the image failed unforeseen (logged on the server)"),
    "invalid_base64": (422, "the JSON image is not valid base64 or a base64 data URL"),
    "invalid_request": (422, "an option or field is invalid"),
    "missing_file": (422, "the multipart body has no file in the expected field"),
    "too_many_digits": (422, "/recognize: the image holds more digits than its limit"),
    "invalid_label": (422, "a correction's label does not fit the reading (a digit reading takes one digit)"),
    "invalid_password": (422, "the password is too short, too long or contains the e-mail address"),
    "model_not_promotable": (409, "a personal model, one whose gate did not pass, or the live one, cannot be "
                             "promoted"),
    "nothing_to_roll_back": (409, "a rollback when the live model is the configured default"),
    "too_many_attempts": (429, "too many failed sign-ins for the account or the client; see Retry-After"),
    "headers_too_large": (431, "the request head is too large or has too many fields"),
    "http_error": (400, "any other HTTP error (its status is the HTTP one)"),
    "internal_error": (500, "a failure on the server's side (logged)"),
    "provider_error": (502, "sign-in with an OpenID Connect provider: the provider cannot be reached"),
    "model_not_loaded": (503, "the model is still loading, or could not be loaded"),
}


def error_codes_markdown() -> str:
    """The README's table of error codes (between its ``error-codes`` markers)."""
    rows = [f"| `{code}` | {status} | {when} |" for code, (status, when) in
            sorted(ERROR_CODES.items(), key=lambda item: (item[1][0], item[0]))]
    return "\n".join(["| code | status | when |", "| --- | ---: | --- |", *rows])


class APIError(Exception):
    """An error a client caused or must know about; rendered as the standard error body."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 clear_cookies: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers
        self.clear_cookies = clear_cookies  # cookies the browser must drop (an ended session's)


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
        response = error_response(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers or {})
        for name in exc.clear_cookies:
            response.delete_cookie(name, path="/")
        return response

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
        response = error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
        # Starlette answers this outside the app's middleware, so the headers every response
        # carries (security.SecurityHeadersMiddleware) are added here
        response.headers.update(SECURITY_HEADERS)
        return response


def error_doc(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}


# documented on every route that takes an image
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: error_doc("Empty body or unparseable request (`empty_body`, `empty_input`, `invalid_json`)."),
    404: error_doc("Unknown model (`unknown_model`)."),
    413: error_doc("Too many bytes or pixels (`payload_too_large`, `image_too_large`, `too_many_files`; "
              "/recognize: `image_too_wide`)."),
    415: error_doc("Not an image, or an unaccepted Content-Type (`not_an_image`, `unsupported_media_type`)."),
    422: error_doc("Corrupt or truncated image, bad base64, invalid option (`corrupt_image`, `unreadable_image`, "
              "`invalid_request`; /recognize: `too_many_digits`)."),
    503: error_doc("The model is not loaded yet (`model_not_loaded`)."),
}


if __name__ == "__main__":  # print the README's table of error codes
    print(error_codes_markdown())
