"""`hoverslam flash`: build, copy with mpremote, verify by SHA-256, reset, HELLO.

Three levels:
- flash() against FakeTransport (a dict filesystem) + FakeBoard (HELLO on a
  pty): the flash logic, key handling and every failure it must report;
- MpremoteTransport driving a stand-in `mpremote` script: the command lines
  it builds and how it reads mpremote's errors;
- MpremoteTransport running the REAL mpremote against the MicroPython unix VM
  in raw-REPL mode on a pty, and a whole flash of the built image to the VM,
  which then boots it and answers HELLO with the firmware hash of the image.
"""
import hashlib
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import serial

from hil_rig import cli
from hil_rig.build import build
from hil_rig.flash import (CopyError, FlashError, HashMismatch, MpremoteMissing, MpremoteTransport,
                           NoHello, PortError, find_mpremote, flash, image_fw_hash)
from hil_rig.session import Session
from hil_rig.targets import SerialTarget, keys_dir, port_key_name
from host.errors import HoverslamError
from protocol import messages as m

FAKES = Path(__file__).parent / "fakes"
sys.path.insert(0, str(FAKES))
from fake_board import FakeBoard  # noqa: E402
from flash_transport import FakeTransport  # noqa: E402
from vm_board import VmBoard  # noqa: E402
from tests.test_build import _vm_march as vm_march  # noqa: E402

UID = "e660583883724a32"


@pytest.fixture(autouse=True)
def keystore(tmp_path, monkeypatch):
    """Keys go to a temp ~/.config for every test, never the real one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "hoverslam" / "keys"


@pytest.fixture
def board():
    with FakeBoard() as b:
        yield b


def sha(data):
    return hashlib.sha256(data).hexdigest()


# --- flash() against the fake transport ----------------------------------------

@pytest.mark.timeout(120)
def test_flash_copies_image_and_key_verifies_and_handshakes(board, keystore, tmp_path):
    fake = FakeTransport(board)
    res = flash(board.port, transport=fake, hello_timeout_s=10)
    image = tmp_path / "image"
    made = build(image, "rp2040")
    for f in made:
        assert fake.files[f] == (image / f).read_bytes(), f
    assert set(fake.files) == set(made) | {"hoverslam.key"}   # no params.dat, no uart.cfg
    key = fake.files["hoverslam.key"]
    assert len(key) == 32
    saved = keystore / f"{UID}.key"
    assert res.key_path == str(saved) and saved.read_bytes() == key
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert res.key_is_new and res.board_id == UID
    # verified after copying, reset after verifying, HELLO after reset
    ops = [o[0] for o in fake.ops]
    assert ops.index("reset") > max(i for i, o in enumerate(ops) if o == "put")
    assert any(o[0] == "sha256" for o in fake.ops[:ops.index("reset")])
    assert res.fw_hash == image_fw_hash(image) == fake.booted_hash
    assert res.hello["fw_hash"] == res.fw_hash and res.hello["proto_version"] == m.PROTOCOL_VERSION


@pytest.mark.timeout(120)
def test_reflash_keeps_the_saved_key_and_counter_a_new_key_resets_the_counter(board, keystore):
    fake = FakeTransport(board, files={"counter.dat": b"\x10\x00\x00\x00"})
    first = flash(board.port, transport=fake, hello_timeout_s=10)
    assert "counter.dat" not in fake.files  # a new key: old counters mean nothing
    key = fake.files["hoverslam.key"]
    fake.files["counter.dat"] = b"\x20\x00\x00\x00"
    board.silent = True
    second = flash(board.port, transport=fake, hello_timeout_s=10)
    assert not second.key_is_new and second.key_path == first.key_path
    assert fake.files["hoverslam.key"] == key
    assert fake.files["counter.dat"] == b"\x20\x00\x00\x00"  # same key: replay protection kept


@pytest.mark.timeout(120)
def test_key_option_puts_that_key_on_the_board_and_keeps_a_copy(board, keystore, tmp_path):
    kf = tmp_path / "lab.key"
    kf.write_bytes(b"k" * 32)
    fake = FakeTransport(board)
    flash(board.port, transport=fake, key_file=str(kf), hello_timeout_s=10)
    assert fake.files["hoverslam.key"] == b"k" * 32
    assert (keystore / f"{UID}.key").read_bytes() == b"k" * 32


@pytest.mark.timeout(60)
def test_short_key_file_is_refused_before_touching_the_board(board, tmp_path):
    kf = tmp_path / "short.key"
    kf.write_bytes(b"1234")
    fake = FakeTransport(board)
    with pytest.raises(HoverslamError) as e:
        flash(board.port, transport=fake, key_file=str(kf))
    assert "at least 16" in str(e.value)
    assert not any(o[0] == "put" for o in fake.ops)


@pytest.mark.timeout(120)
def test_uart_option_writes_uart_cfg_and_without_it_a_stale_one_goes(board):
    fake = FakeTransport(board)
    res = flash(board.port, transport=fake, uart_baud=921600)
    assert fake.files["uart.cfg"] == b"921600\n"
    assert res.hello is None and "--uart-port" in res.notes[-1]  # the link is on GP0/GP1 now
    board.silent = True
    flash(board.port, transport=fake, hello_timeout_s=10)
    assert "uart.cfg" not in fake.files  # else the firmware would keep talking on the UART


@pytest.mark.timeout(120)
def test_uart_port_gets_the_hello_check_and_a_key_under_its_name(board, keystore):
    fake = FakeTransport(board)
    res = flash("/dev/null", transport=fake, uart_baud=921600, uart_port=board.port, hello_timeout_s=10)
    assert res.hello["fw_hash"] == res.fw_hash
    assert (keystore / f"{port_key_name(board.port)}.key").read_bytes() == fake.files["hoverslam.key"]


@pytest.mark.timeout(120)
def test_stale_modules_are_removed_so_the_hash_matches(board):
    # lib/app.py would shadow app.mpy; lib/old.mpy would change the firmware hash
    fake = FakeTransport(board, files={"lib/app.py": b"print('old')\n", "lib/old.mpy": b"M\x06old",
                                       "lib/protocol/gone.mpy": b"M\x06", "data.txt": b"keep"})
    res = flash(board.port, transport=fake, hello_timeout_s=10)
    assert "lib/app.py" not in fake.files and "lib/old.mpy" not in fake.files
    assert "lib/protocol/gone.mpy" not in fake.files
    assert fake.files["data.txt"] == b"keep"  # not ours: left alone
    assert res.hello["fw_hash"] == res.fw_hash


@pytest.mark.timeout(120)
def test_corrupted_copy_is_a_hash_mismatch_and_the_board_is_not_reset(board):
    fake = FakeTransport(board)
    fake.corrupt.add("lib/link.mpy")
    with pytest.raises(HashMismatch) as e:
        flash(board.port, transport=fake)
    assert str(e.value).startswith("lib/link.mpy on the board differs from the built image")
    assert "\n" not in str(e.value) and fake.resets == 0


@pytest.mark.timeout(120)
def test_lost_write_is_reported_as_missing(board):
    fake = FakeTransport(board)
    fake.drop.add("hoverslam.key")
    with pytest.raises(HashMismatch) as e:
        flash(board.port, transport=fake)
    assert "hoverslam.key is missing on the board" in str(e.value)


@pytest.mark.timeout(120)
def test_copy_failure_is_one_line(board):
    fake = FakeTransport(board)
    fake.fail_put.add("lib/app.mpy")
    with pytest.raises(CopyError) as e:
        flash(board.port, transport=fake)
    assert "No space left on device" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.timeout(120)
def test_no_hello_after_reset(board):
    fake = FakeTransport(board)
    fake.no_boot = True
    with pytest.raises(NoHello) as e:
        flash(board.port, transport=fake, hello_timeout_s=1.5)
    assert str(e.value).startswith(f"no HELLO from the board on {board.port}")
    assert fake.resets == 1


@pytest.mark.timeout(120)
def test_board_booting_other_firmware_is_a_hash_mismatch(board):
    fake = FakeTransport(board)
    fake.report_hash = 0x1234567
    with pytest.raises(HashMismatch) as e:
        flash(board.port, transport=fake, hello_timeout_s=10)
    assert "firmware hash mismatch after reset: the board reports 0x01234567" in str(e.value)


@pytest.mark.timeout(60)
def test_board_of_another_kind_or_chip_is_refused(board):
    with pytest.raises(FlashError) as e:
        flash(board.port, transport=FakeTransport(board, platform="esp32", machine="ESP32"))
    assert "not 'rp2'" in str(e.value)
    with pytest.raises(FlashError) as e:
        flash(board.port, chip="rp2350", transport=FakeTransport(board))
    assert "use --chip rp2040" in str(e.value)


@pytest.mark.timeout(30)
def test_missing_port_is_one_line_before_anything_runs():
    with pytest.raises(PortError) as e:
        flash("/dev/ttyNOPE", transport=None)
    assert str(e.value) == "port /dev/ttyNOPE not found: is the board plugged in?"


@pytest.mark.timeout(30)
def test_missing_mpremote_is_one_line():
    t = MpremoteTransport("/dev/null", mpremote=["/nonexistent/bin/mpremote"])
    with pytest.raises(MpremoteMissing) as e:
        t.exec("print(1)")
    assert "mpremote was not found" in str(e.value) and "pip install mpremote" in str(e.value)


@pytest.mark.timeout(30)
def test_find_mpremote_finds_the_venv_one():
    cmd = find_mpremote()
    assert cmd[-1].endswith("mpremote")


# --- the command lines MpremoteTransport builds (stand-in mpremote) -------------

@pytest.fixture
def fake_mpremote(tmp_path, monkeypatch):
    log = tmp_path / "argv.jsonl"
    monkeypatch.setenv("FAKE_MPREMOTE_LOG", str(log))

    def calls():
        return [json.loads(ln) for ln in log.read_text().splitlines()] if log.exists() else []
    return [sys.executable, str(FAKES / "fake_mpremote.py")], calls


@pytest.mark.timeout(60)
def test_transport_command_lines(fake_mpremote, tmp_path):
    cmd, calls = fake_mpremote
    t = MpremoteTransport("/dev/ttyACM0", mpremote=cmd)
    t.mkdir("lib")
    t.put_many([(tmp_path / "a.mpy", "lib/a.mpy"), (tmp_path / "main.py", "main.py")])
    t.reset()
    got = calls()
    assert got[0] == ["connect", "/dev/ttyACM0", "fs", "mkdir", ":lib"]
    assert got[1] == ["connect", "/dev/ttyACM0", "fs", "cp", str(tmp_path / "a.mpy"), ":lib/a.mpy",
                      "+", "fs", "cp", str(tmp_path / "main.py"), ":main.py"]
    assert got[2][:4] == ["connect", "/dev/ttyACM0", "exec", "--no-follow"] and "machine.reset()" in got[2][4]
    assert MpremoteTransport("/dev/pts/3", mpremote=cmd, soft_reset=False).command(["exec", "x"]) == \
        cmd + ["connect", "/dev/pts/3", "resume", "exec", "x"]


@pytest.mark.timeout(60)
def test_transport_batches_many_files_per_mpremote_process(fake_mpremote, tmp_path):
    cmd, calls = fake_mpremote
    t = MpremoteTransport("/dev/ttyACM0", mpremote=cmd)
    t.put_many([(tmp_path / f"{i}.mpy", f"lib/{i}.mpy") for i in range(30)])
    got = calls()
    assert len(got) == 2 and got[0].count("cp") == 24 and got[1].count("cp") == 6


@pytest.mark.timeout(60)
@pytest.mark.parametrize("err, cls, words", [
    ("mpremote: failed to access /dev/null (it may be in use by another program)\n", PortError,
     "another program has it open"),
    ("b''\nmpremote: could not enter raw repl\n", PortError, "press BOOTSEL while the LED blinks"),
    ("mpremote: cp: No space left on device.\n", CopyError, "No space left on device"),
])
def test_transport_turns_mpremote_errors_into_one_line(fake_mpremote, monkeypatch, err, cls, words):
    cmd, _ = fake_mpremote
    monkeypatch.setenv("FAKE_MPREMOTE_ERR", err)
    monkeypatch.setenv("FAKE_MPREMOTE_RC", "1")
    with pytest.raises(cls) as e:
        MpremoteTransport("/dev/null", mpremote=cmd).exec("print(1)")
    assert words in str(e.value) and "\n" not in str(e.value)


# --- the real mpremote against the MicroPython VM --------------------------------

@pytest.fixture
def vm():
    with VmBoard() as v:
        yield v


@pytest.mark.timeout(120)
def test_real_mpremote_transport_on_the_vm(vm, tmp_path):
    t = vm.transport()
    assert t.board_info()[0] == "linux"  # the unix port: no machine.unique_id
    t.mkdir("lib")
    t.mkdir("lib")  # again: no error
    a, b = tmp_path / "a.mpy", tmp_path / "b.bin"
    a.write_bytes(bytes(range(256)) * 9)
    b.write_bytes(b"\x00\x03\x04\r\n" * 100)  # Ctrl-C, Ctrl-D and CR/LF survive the copy
    t.put_many([(a, "lib/a.mpy"), (b, "b.bin")])
    assert (vm.fs / "lib" / "a.mpy").read_bytes() == a.read_bytes()
    assert (vm.fs / "b.bin").read_bytes() == b.read_bytes()
    assert t.sha256_many(["lib/a.mpy", "b.bin", "nope.mpy"]) == {
        "lib/a.mpy": sha(a.read_bytes()), "b.bin": sha(b.read_bytes()), "nope.mpy": None}
    assert t.sha256("b.bin") == sha(b.read_bytes())
    assert t.listdir("lib") == ["a.mpy"] and t.listdir("nothing") == []
    t.remove("lib/a.mpy")
    t.remove("lib/a.mpy")  # again: no error
    assert t.listdir("lib") == []
    assert t.exec("print(6 * 7)").strip() == "42"
    with pytest.raises(CopyError) as e:
        t.exec("raise ValueError('boom')")
    assert "ValueError: boom" in str(e.value)


@pytest.mark.timeout(180)
def test_flash_the_image_to_the_vm_then_fly_commands_with_the_saved_key(vm, keystore, tmp_path):
    # leftovers of an older flash: a source module that would shadow app.mpy
    (vm.fs / "lib").mkdir()
    (vm.fs / "lib" / "app.py").write_text("raise SystemExit('stale app.py ran')\n")
    # the image's machine code (protocol viper loops) for the VM's own arch
    march = vm_march()
    res = flash(vm.port, transport=vm.transport(), expect_platform="linux", hello_timeout_s=20,
                march=march)
    assert res.hello is not None, vm.stderr_text()
    image = tmp_path / "image"
    for f in build(image, "rp2040", march=march):
        assert (vm.fs / f).read_bytes() == (image / f).read_bytes(), f
    assert not (vm.fs / "lib" / "app.py").exists()
    # the VM booted the flashed main.py and hashed its own /lib like a board does
    assert res.hello["fw_hash"] == res.fw_hash == image_fw_hash(image)
    assert res.hello["impl"] == "micropython"
    saved = keystore / f"{port_key_name(vm.port)}.key"  # no unique id on the VM: port name
    assert saved.read_bytes() == (vm.fs / "hoverslam.key").read_bytes()
    # `hoverslam fly --target PORT` path: SerialTarget finds the key flash saved
    target = SerialTarget(vm.port)
    # an x64 image: not one of the Pico images `fly` accepts, so its hash is checked here
    with Session(target, check_hash=False) as s:
        assert s.hello["fw_hash"] == image_fw_hash(image)
        assert target.key_path == saved
        s.configure({"throttle_min_pm": 570})
        s.arm()
        states = [e["state_to"] for e in s.link.events if e["code"] == m.EV_STATE]
    assert states[-1] == m.ST_ARMED, vm.stderr_text()


@pytest.mark.timeout(60)
def test_real_mpremote_on_a_busy_port_is_one_line(vm):
    with serial.Serial(vm.port, exclusive=True):
        with pytest.raises(PortError) as e:
            vm.transport().exec("print(1)")
    assert "another program has it open" in str(e.value)


@pytest.mark.timeout(60)
def test_real_mpremote_that_gets_no_repl_is_stopped_with_the_bootsel_hint():
    # running firmware ignores Ctrl-C and never shows a prompt; on a pty mpremote
    # would wait for one forever (on /dev/ttyACM* it gives up after 10 s with
    # "could not enter raw repl", see the stand-in test above)
    with FakeBoard(silent=True) as b:
        with pytest.raises(PortError) as e:
            MpremoteTransport(b.port, timeout_s=3).exec("print(1)")
    assert "got no answer within 3 s" in str(e.value) and "BOOTSEL" in str(e.value)


# --- the CLI ------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_cli_flash_help_explains_it():
    p = subprocess.run([sys.executable, "-m", "hil_rig.cli", "flash", "--help"], capture_output=True,
                       text=True, cwd=Path(__file__).parent.parent, timeout=30)
    assert p.returncode == 0
    for words in ("mpremote", "SHA-256", "HELLO", "BOOTSEL", "--chip", "--uart", "--key"):
        assert words in p.stdout


@pytest.mark.timeout(60)
def test_cli_flash_to_a_missing_port_exits_2_with_one_line():
    p = subprocess.run([sys.executable, "-m", "hil_rig.cli", "flash", "--port", "/dev/ttyNOPE"],
                       capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=30)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == ["hoverslam: error: port /dev/ttyNOPE not found: "
                                             "is the board plugged in?"]


@pytest.mark.timeout(120)
def test_cli_flash_reports_what_it_did(board, monkeypatch, capsys):
    fake = FakeTransport(board)
    monkeypatch.setattr("hil_rig.flash.MpremoteTransport", lambda port: fake)
    with pytest.raises(SystemExit) as e:
        cli.main(["flash", "--port", board.port, "--chip", "rp2040"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert re.search(rf"flashed \d+ files to {re.escape(board.port)} \(rp2040\); firmware hash 0x[0-9a-f]{{8}}", out)
    assert f"command key: {keys_dir() / (UID + '.key')}" in out
    assert "HELLO ok" in out


@pytest.mark.timeout(120)
def test_hello_check_works_through_an_rfc2217_bridge(board):
    # `hoverslam flash --port rfc2217://...`: mpremote reaches the board remotely,
    # and the HELLO check after the reset must too
    from tcp_bridge import TcpSerialBridge
    from hil_rig.flash import wait_for_hello
    board.silent = False
    board.fw_hash = 0x2345
    with TcpSerialBridge(board.port, rfc2217=True) as br:
        assert wait_for_hello(br.url, timeout_s=10)["fw_hash"] == 0x2345


@pytest.mark.timeout(120)
def test_real_mpremote_remove_many_on_the_vm(vm):
    for name in ("a.mpy", "b.py"):
        (vm.fs / name).write_bytes(b"x")
    t = vm.transport()
    t.remove_many(["a.mpy", "b.py", "missing.mpy"])
    assert not (vm.fs / "a.mpy").exists() and not (vm.fs / "b.py").exists()
