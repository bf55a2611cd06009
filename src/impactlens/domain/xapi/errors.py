"""The error an xAPI request ends in: a status code the spec names and a plain message."""

from __future__ import annotations

from impactlens.domain.errors import ImpactLensError


class XapiError(ImpactLensError):
    """A refused xAPI request: ``status`` is the HTTP code (400, 401, 403, 404, 409, 412, 413).

    Examples:
        >>> XapiError("verb.id is not an IRI").status
        400
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status

    def __reduce__(self) -> tuple[type[XapiError], tuple[str, int]]:
        # keeps the status when the error crosses from a checking process
        return (type(self), (str(self), self.status))
