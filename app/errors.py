"""One small error hierarchy; one handler in main.py renders it as a page or as JSON."""

from typing import Any

from app.i18n import N_, gettext


class AppError(Exception):
    status = 400

    def __init__(self, message: str, *, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = params or {}


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    """A duplicate or a state that forbids the change; `field` names the form field it concerns."""

    status = 409

    def __init__(
        self, message: str, *, field: str | None = None, params: dict[str, Any] | None = None
    ):
        super().__init__(message, params=params)
        self.field = field


class Forbidden(AppError):
    status = 403


class Unauthorized(AppError):
    status = 401


class TooLarge(AppError):
    status = 413


class Invalid(AppError):
    """Field errors: [(field, message)], shown beside the fields or as JSON 422."""

    status = 422

    def __init__(
        self,
        errors: list[tuple[str, str]],
        message: str = N_("Invalid input"),
        params: dict[str, Any] | None = None,
    ):
        super().__init__(message, params=params)
        self.errors = errors

    def field_messages(self) -> dict[str, str]:
        """{field: message} in the request's language, for the page beside the fields."""
        return {field: gettext(message, **self.params) for field, message in self.errors}


class TooManyRequests(AppError):
    status = 429
