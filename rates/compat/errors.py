"""A refusal in the shape of the API that was asked (each compatible API has its own)."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """An error answer: its HTTP status and the JSON body the imitated API would send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def native(status: int, code: str, message: str) -> Refusal:
    """The service's own ``{"error": {"code", "message"}}``, for APIs without an error shape."""
    return Refusal(status, {"error": {"code": code, "message": message}})
