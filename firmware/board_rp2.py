"""Board layer for Raspberry Pi Pico / Pico 2 (rp2 port).

Link: USB CDC (default) through sys.stdin.buffer / sys.stdout.buffer with
Ctrl-C disabled, read one byte per readiness check because rp2 reads block
until every requested byte has arrived; or machine.UART on GP0/GP1 when a file
`uart.cfg` exists (first line: baud rate), with a 2 KiB rxbuf so a 10 ms stall
at 921600 baud loses nothing.  Also the watchdog (armed only when the flight loop
starts), the status LED and the escape hatch: pressing BOOTSEL during the
first second after power-up (LED blinking) skips autostart so mpremote can
always get in.
"""
import sys
import time
import select
import micropython

_WDT_MS = const(2000)


def bootsel_held():
    try:
        import rp2
        return rp2.bootsel_button() == 1
    except (ImportError, AttributeError):
        return False


def escape_window(ms=1000, machine=None):
    """Blink the LED for `ms` after boot; True if BOOTSEL was pressed meanwhile.
    (Holding BOOTSEL while plugging in starts the ROM bootloader instead, so
    the hatch is a press just after power-up.)"""
    if machine is None:
        import machine
    try:
        led = machine.Pin("LED", machine.Pin.OUT)
    except (TypeError, ValueError):
        led = None
    t0 = time.ticks_ms()
    pressed = False
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        if bootsel_held():
            pressed = True
            break
        if led is not None:
            led.value((time.ticks_diff(time.ticks_ms(), t0) // 100) & 1)
        time.sleep_ms(10)
    if led is not None:
        led.value(1 if pressed else 0)
    return pressed


class Board:
    name = "rp2"

    def __init__(self, machine=None, stdio=None, uart_baud=None):
        # machine/stdio/uart_baud are seams for tests with fakes; on the board
        # they default to the real machine module, USB CDC and uart.cfg
        if machine is None:
            import machine
        self._machine = machine
        self.ticks_us = time.ticks_us
        self.ticks_diff = time.ticks_diff
        self._one = bytearray(1)
        self._uart = None
        baud = _uart_baud() if uart_baud is None else uart_baud
        if baud:
            self._uart = machine.UART(0, baudrate=baud, tx=machine.Pin(0), rx=machine.Pin(1),
                                      rxbuf=2048, timeout=0)
            self._rx = self._uart
            self._tx = self._uart
        else:
            micropython.kbd_intr(-1)  # a 0x03 in a frame must not raise KeyboardInterrupt
            if stdio is None:
                stdio = (sys.stdin.buffer, sys.stdout.buffer)
            self._rx, self._tx = stdio
        self._poll = select.poll()
        self._poll.register(self._rx, select.POLLIN)
        try:
            self._led = machine.Pin("LED", machine.Pin.OUT)
        except (TypeError, ValueError):
            self._led = None
        self._wdt = None  # armed by start_watchdog(): it cannot be stopped once running

    def read_into(self, buf):
        if self._uart is not None:
            n = self._uart.any()
            if n:
                return self._uart.readinto(buf, min(n, len(buf)))
            return 0
        # USB CDC: readinto(buf) would block for len(buf) bytes; take one at a time
        n = 0
        one = self._one
        cap = len(buf)
        poll = self._poll
        while n < cap:
            got = False
            for obj, ev in poll.ipoll(0):
                got = True
            if not got:
                break
            self._rx.readinto(one)
            buf[n] = one[0]
            n += 1
        return n

    def wait_rx(self, timeout_ms):
        for obj, ev in self._poll.ipoll(timeout_ms):
            return True
        return False

    def write(self, mv):
        n = self._tx.write(mv)
        if n is not None and n < len(mv):
            self._tx.write(mv[n:])

    def start_watchdog(self):
        if self._wdt is None:
            self._wdt = self._machine.WDT(timeout=_WDT_MS)

    def feed_watchdog(self):
        if self._wdt is not None:
            self._wdt.feed()

    def led(self, on):
        if self._led is not None:
            self._led.value(1 if on else 0)

    def keep_running(self):
        return True


def _uart_baud():
    try:
        with open("uart.cfg") as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return 0
