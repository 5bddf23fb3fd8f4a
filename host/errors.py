"""Errors the host reports to users as one line (no traceback)."""


class HoverslamError(Exception):
    """Base: str(e) is the one line shown to the user."""


class LinkError(HoverslamError):
    """The serial link failed: port missing, closed, or the board went silent."""


class LinkTimeout(LinkError):
    pass


class HandshakeError(HoverslamError):
    pass


class CommandRejected(HoverslamError):
    pass
