"""The one exception type a user sees: its message is printed as one line, exit status 1."""


class UserError(Exception):
    """Bad input or a failed operation, explained: what is wrong, where, what to do."""
