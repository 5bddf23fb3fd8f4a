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
    b = board.open_board()
    if b.name == "rp2":
        import board_rp2
        if board_rp2.bootsel_held():
            return  # escape hatch: BOOTSEL held, leave the REPL to mpremote
    app.App(b, _fw_dirs()).run()


main()
