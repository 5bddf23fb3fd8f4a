"""Hoverslam wire protocol: message table, framing, codecs.

Modules without the `host` prefix run unchanged on MicroPython and CPython and
are deployed to the board; `hostcodec` is host-only (construct, numpy).
"""
