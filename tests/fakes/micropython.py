"""CPython stand-in for the `micropython` module so firmware logic imports
under CPython too (the real tests run it on the MicroPython VM)."""


def const(x):
    return x


def kbd_intr(c):
    pass


def heap_lock():
    pass


def heap_unlock():
    return 0
