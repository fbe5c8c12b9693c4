"""The one exception type the toolkit raises for an expected, reportable failure."""


class ReleaseError(Exception):
    """A release step failed; the message says what and, where possible, what to do."""
