"""One error shape for every endpoint: {"error": {"code": "...", "message": "German sentence"}}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


MAX_BODY_BYTES = 12 * 1024 * 1024
"""Largest request body (inbox attachments included); chat messages have their own, smaller limit."""

MAX_ID = 2**63 - 1
"""Largest id a path or query may name (the stores' 64-bit integers); larger ones are 422, not 500."""

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string", "description": "Deutscher Satz"}},
    }},
}
"""The one error shape, as JSON Schema (for the OpenAPI document)."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class BodyTooLarge(StarletteHTTPException):
    """Raised by the request guard (web/guard.py) once the body passes the limit, also without a
    Content-Length: a subclass of HTTPException, so FastAPI's body parsing passes it on."""

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(413, f"Die Anfrage ist zu groß (höchstens {limit // 1024 // 1024} MB).")

    def response(self) -> JSONResponse:
        return error_response(413, "too_large", str(self.detail))


class InvalidText(StarletteHTTPException):
    """A body that is valid JSON but no valid text (a lone UTF-16 surrogate such as "\\ud800")."""

    def __init__(self, message: str = "Der Text enthält ein ungültiges Zeichen (ein einzelnes UTF-16-Surrogat).") -> None:
        super().__init__(400, message)

    def response(self) -> JSONResponse:
        return error_response(400, "invalid_text", str(self.detail))


_STATUS_MESSAGES = {
    400: ("bad_request", "Die Anfrage ist fehlerhaft."),
    401: ("unauthorized", "Bitte melden Sie sich an."),
    403: ("forbidden", "Dafür fehlt die Berechtigung."),
    404: ("not_found", "Diese Adresse gibt es nicht."),
    405: ("method_not_allowed", "Diese Methode ist hier nicht erlaubt."),
    413: ("too_large", "Die Anfrage ist zu groß."),
}


def _field_name(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.headers)

    @app.exception_handler(BodyTooLarge)
    @app.exception_handler(InvalidText)
    async def _guarded(_request: Request, error: BodyTooLarge | InvalidText) -> JSONResponse:
        return error.response()

    @app.exception_handler(RecursionError)
    async def _too_deep(_request: Request, _error: RecursionError) -> JSONResponse:
        return error_response(400, "too_deep", "Die Anfrage ist zu tief verschachtelt.")

    @app.exception_handler(OverflowError)
    async def _too_big_number(_request: Request, _error: OverflowError) -> JSONResponse:
        return error_response(422, "number_too_large", "Eine Zahl in der Anfrage ist zu groß.")

    @app.exception_handler(UnicodeEncodeError)
    async def _unencodable(_request: Request, _error: UnicodeEncodeError) -> JSONResponse:
        return error_response(400, "invalid_text", "Der Text enthält ein ungültiges Zeichen.")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        name = _field_name(tuple(first.get("loc", ())))
        if first.get("type") == "json_invalid":
            message = "Der Inhalt ist kein gültiges JSON."
        elif first.get("type") == "missing":
            message = f"Das Feld „{name}“ fehlt."
        else:
            message = f"Das Feld „{name}“ ist ungültig: {first.get('msg', '')}."
        return error_response(422, "invalid_request", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code, message = _STATUS_MESSAGES.get(error.status_code, ("error", "Die Anfrage konnte nicht bearbeitet werden."))
        if isinstance(error.detail, str) and error.status_code not in _STATUS_MESSAGES:
            message = error.detail
        return error_response(error.status_code, code, message)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _error: Exception) -> JSONResponse:
        # Logged by the server with its traceback; the client gets no internals.
        return error_response(500, "internal_error", "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später noch einmal.")
