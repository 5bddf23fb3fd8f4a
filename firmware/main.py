"""Autostart entry point of the flight software (main.py on the board, the
script the SITL target runs on the MicroPython VM)."""
import board
import app


def _fw_dirs():
    # where the deployed modules live: this file's folder and the protocol package
    import protocol
    here = board.__file__.rsplit("/", 1)[0] if "/" in board.__file__ else "."
    pdir = protocol.__file__.rsplit("/", 1)[0]
    return (here, pdir)


def main():
    import sys
    if sys.platform == "rp2":
        import board_rp2
        # escape hatch, before anything is armed: press BOOTSEL during the
        # first second after power-up (LED blinking) and the REPL stays free
        # for mpremote; the watchdog is not running yet, so nothing resets it
        if board_rp2.escape_window():
            return
    b = board.open_board()
    a = app.App(b, _fw_dirs())
    b.start_watchdog()  # only once the flight loop is about to run
    a.run()


main()
