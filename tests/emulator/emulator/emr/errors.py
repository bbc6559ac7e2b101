"""EMR Serverless errors, as the API model defines them (code -> HTTP status)."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def validation(message: str) -> ApiError:
    return ApiError(400, "ValidationException", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFoundException", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "ConflictException", message)


def serialization(message: str) -> ApiError:
    return ApiError(400, "SerializationException", message)


def not_implemented(operation: str) -> ApiError:
    # Not an AWS error: the emulator says plainly what it does not do.
    return ApiError(501, "NotImplementedException", f"the emulator does not implement {operation}")
