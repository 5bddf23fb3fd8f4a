"""Board selection: the one place that knows which hardware we run on.

`open_board()` returns the board object for sys.platform: `rp2` (Pico, Pico 2)
or the MicroPython unix port used by SITL.  Flight code only ever talks to this
object (link bytes, ticks, watchdog, LED), so nothing SITL-only leaks into it.
"""
import sys


def open_board():
    if sys.platform == "rp2":
        import board_rp2
        return board_rp2.Board()
    import board_unix
    return board_unix.Board()
