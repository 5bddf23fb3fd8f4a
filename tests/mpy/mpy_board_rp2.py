# The rp2 board layer against fakes of machine/USB, on the MicroPython VM.
from fake_machine import FakeMachine, FakeStream, UART, WDT
import board_rp2


def test_usb_cdc_reads_what_arrived_one_byte_at_a_time():
    rx = FakeStream(b"\x00abc\x00")
    tx = FakeStream()
    b = board_rp2.Board(machine=FakeMachine, stdio=(rx, tx), uart_baud=0)
    buf = bytearray(16)
    n = b.read_into(buf)
    assert n == 5 and bytes(buf[0:5]) == b"\x00abc\x00"
    assert rx.reads == 5  # never asks for more than one byte: rp2 reads block until n arrive
    assert b.read_into(buf) == 0


def test_usb_cdc_read_stops_at_buffer_size():
    rx = FakeStream(b"x" * 40)
    b = board_rp2.Board(machine=FakeMachine, stdio=(rx, FakeStream()), uart_baud=0)
    buf = bytearray(16)
    assert b.read_into(buf) == 16
    assert len(rx.data) == 24


def test_writes_go_to_the_link():
    tx = FakeStream()
    b = board_rp2.Board(machine=FakeMachine, stdio=(FakeStream(), tx), uart_baud=0)
    b.write(memoryview(b"\x00frame\x00"))
    assert bytes(tx.written) == b"\x00frame\x00"


def test_uart_option_uses_gp0_gp1_with_a_large_rx_buffer():
    b = board_rp2.Board(machine=FakeMachine, uart_baud=921600)
    u = UART.last
    assert u.id == 0 and u.baudrate == 921600 and u.rxbuf >= 2048 and u.timeout == 0
    u.data.extend(b"\x00hello\x00")
    buf = bytearray(64)
    assert b.read_into(buf) == 7
    b.write(memoryview(b"ok"))
    assert bytes(u.written) == b"ok"


def test_watchdog_is_armed_only_when_the_loop_starts_and_then_fed():
    n0 = len(WDT.instances)
    b = board_rp2.Board(machine=FakeMachine, stdio=(FakeStream(), FakeStream()), uart_baud=0)
    b.feed_watchdog()  # harmless before arming
    assert len(WDT.instances) == n0  # a REPL left by the escape hatch must not be reset
    b.start_watchdog()
    w = WDT.instances[-1]
    assert 0 < w.timeout <= 8388  # the RP2040 watchdog cannot count longer
    b.feed_watchdog()
    b.feed_watchdog()
    assert w.fed == 2


def test_led_follows_commands():
    b = board_rp2.Board(machine=FakeMachine, stdio=(FakeStream(), FakeStream()), uart_baud=0)
    b.led(True)
    assert b._led.value() == 1
    b.led(False)
    assert b._led.value() == 0


def test_bootsel_escape_hatch_is_off_without_rp2_module():
    assert board_rp2.bootsel_held() is False
    assert board_rp2.escape_window(30, machine=FakeMachine) is False
