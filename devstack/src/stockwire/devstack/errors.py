"""The one error type ``make up`` and the test stack raise for problems a developer can fix."""


class StackError(Exception):
    """A startup or shutdown failure whose message is meant for the person at the terminal.

    The command line prints it without a traceback, so the message says what failed, why
    when known, and what to do about it (often with the tail of the relevant log).
    """
