"""Errors a user can meet. Each message names the cause and the fix."""


class OnepochError(Exception):
    """Base class: an error caused by input or settings, not a bug."""


class DataError(OnepochError):
    """Missing, corrupted or malformed data files, or bad data parameters."""
