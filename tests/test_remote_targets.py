"""Boards reached over the network (socket://, rfc2217://), keys found for a
port, and the one-line errors for dead ports and handshake mismatches.

The "remote board" is the SITL firmware on the MicroPython VM behind a TCP
bridge (tests/fakes/tcp_bridge.py, ser2net style); mismatching boards are a
FakeBoard on a pty answering HELLO as the test wants.
"""
import subprocess
import shutil
import sys
from pathlib import Path

import pytest
import serial

from hil_rig import cli
from hil_rig.session import Session, expected_fw_hash
from hil_rig.targets import (FIRMWARE_DIR, SerialTarget, SitlTarget, TargetError, keys_dir,
                             make_target, port_key_name, saved_key_paths)
from host.errors import CommandRejected, HandshakeError, HoverslamError, LinkError
from host.link import Link
from protocol import messages as m

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent / "fakes"))
from fake_board import FakeBoard  # noqa: E402
from tcp_bridge import TcpSerialBridge  # noqa: E402


@pytest.fixture(autouse=True)
def keystore(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "hoverslam" / "keys"


@pytest.fixture
def sitl():
    t = SitlTarget().start()
    yield t
    t.stop()


def bridged(sitl, rfc2217=False):
    return TcpSerialBridge(sitl.port_path, rfc2217=rfc2217).start()


def states(link):
    return [e["state_to"] for e in link.events if e["code"] == m.EV_STATE]


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "hil_rig.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def error_lines(stderr):
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    return [ln for ln in lines if ln.startswith("hoverslam: ")]


# --- socket:// and rfc2217:// -----------------------------------------------------

@pytest.mark.timeout(120)
def test_session_over_socket_url_handshakes_configures_and_arms(sitl):
    with bridged(sitl) as br:
        assert br.url.startswith("socket://127.0.0.1:")
        target = make_target(br.url, key=sitl.key)
        assert isinstance(target, SerialTarget)
        with Session(target) as s:
            assert s.hello["impl"] == "micropython"
            assert s.hello["fw_hash"] == expected_fw_hash()  # the SITL tree, through TCP
            s.configure({"throttle_min_pm": 570})
            s.arm()
            assert states(s.link)[-1] == m.ST_ARMED


@pytest.mark.timeout(120)
def test_socket_target_finds_the_key_saved_for_its_url(sitl, keystore):
    with bridged(sitl) as br:
        keystore.mkdir(parents=True)
        (keystore / f"{port_key_name(br.url)}.key").write_bytes(sitl.key)
        target = SerialTarget(br.url)  # no key given: looked up like flash saved it
        with Session(target) as s:
            assert target.key == sitl.key
            s.arm()
            assert states(s.link)[-1] == m.ST_ARMED


@pytest.mark.timeout(120)
def test_without_the_key_signed_commands_are_refused(sitl):
    with bridged(sitl) as br:
        with Session(SerialTarget(br.url)) as s:
            assert s.target.key is None and s.hello["impl"] == "micropython"  # HELLO needs no key
            with pytest.raises(CommandRejected) as e:
                s.arm()
    assert str(e.value).endswith(": no tag")


@pytest.mark.timeout(120)
def test_rfc2217_url_handshakes_and_arms_through_pyserial_port_manager(sitl):
    with bridged(sitl, rfc2217=True) as br:
        # opened without write_timeout, which pyserial's rfc2217 client rejects (see below)
        port = serial.serial_for_url(br.url, baudrate=921600, timeout=0)
        try:
            link = Link(port, key=sitl.key)
            hello = link.hello()
            assert hello["fw_hash"] == expected_fw_hash()
            link.command(m.CMD_ARM)
            link.command(m.CMD_ARM_CONFIRM)
            assert states(link)[-1] == m.ST_ARMED
        finally:
            port.close()


@pytest.mark.timeout(120)
def test_session_over_rfc2217_url(sitl):
    with bridged(sitl, rfc2217=True) as br:
        with Session(SerialTarget(br.url, key=sitl.key)) as s:
            s.arm()


# --- keys for serial targets --------------------------------------------------------

@pytest.mark.timeout(30)
def test_key_lookup_prefers_the_board_id_then_the_port_name(keystore, monkeypatch):
    monkeypatch.setattr("hil_rig.targets.usb_serial_number", lambda url: "e660583883724a32")
    assert saved_key_paths("/dev/ttyACM0") == [keystore / "e660583883724a32.key", keystore / "ttyACM0.key"]
    keystore.mkdir(parents=True)
    (keystore / "ttyACM0.key").write_bytes(b"p" * 32)
    t = SerialTarget("/dev/ttyACM0").start()
    assert t.key == b"p" * 32 and t.key_path == keystore / "ttyACM0.key"
    (keystore / "e660583883724a32.key").write_bytes(b"b" * 32)
    assert SerialTarget("/dev/ttyACM0").start().key == b"b" * 32
    assert SerialTarget("/dev/ttyACM0", key=b"g" * 32).start().key == b"g" * 32  # given wins
    monkeypatch.setattr("hil_rig.targets.usb_serial_number", lambda url: None)
    assert SerialTarget("/dev/ttyUSB7").start().key is None  # nothing saved: no key


@pytest.mark.timeout(30)
def test_port_key_names():
    assert port_key_name("/dev/ttyACM0") == "ttyACM0"
    assert port_key_name("/dev/pts/3") == "pts-3"
    assert port_key_name("COM3") == "COM3"
    assert port_key_name("socket://10.0.0.7:4001") == "socket-10.0.0.7-4001"
    assert port_key_name("rfc2217://lab-pi:2217") == "rfc2217-lab-pi-2217"
    assert keys_dir().name == "keys" and keys_dir().parent.name == "hoverslam"


@pytest.mark.timeout(30)
def test_bad_saved_key_file_is_one_line(keystore):
    keystore.mkdir(parents=True)
    (keystore / "ttyNOKEY.key").write_bytes(b"short")
    with pytest.raises(TargetError) as e:
        SerialTarget("/dev/ttyNOKEY").start()
    assert "holds 5 bytes" in str(e.value) and "\n" not in str(e.value)


# --- dead ports ------------------------------------------------------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("url, words", [
    ("/dev/ttyNOPE", "No such file or directory"),
    ("socket://127.0.0.1:1", "Connection refused"),
    ("rfc2217://127.0.0.1:1", "Connection refused"),
])
def test_dead_port_is_one_clear_line(url, words):
    with pytest.raises(LinkError) as e:
        Session(SerialTarget(url)).open()
    msg = str(e.value)
    assert msg.startswith(f"cannot open port {url!r}") and words in msg and "\n" not in msg


@pytest.mark.timeout(60)
@pytest.mark.parametrize("url", ["/dev/ttyNOPE", "socket://127.0.0.1:1"])
def test_cli_fly_on_a_dead_port_exits_2_with_one_error_line(url):
    p = run_cli("fly", "--target", url)
    assert p.returncode == 2
    errs = error_lines(p.stderr)
    assert len(errs) == 1 and errs[0].startswith(f"hoverslam: error: cannot open port '{url}'")
    # besides it, stderr holds only the "flying ... on URL" progress line
    assert len(p.stderr.strip().splitlines()) <= 2


@pytest.mark.timeout(60)
@pytest.mark.parametrize("opt", [["--speed", "5"], ["--act-delay", "frame"], ["--act-delay", "none"]])
def test_cli_fly_lockstep_options_with_realtime_pace_exit_2_with_one_line(opt):
    p = run_cli("fly", "--pace", "realtime", *opt)
    assert p.returncode == 2
    errs = error_lines(p.stderr)
    assert errs == [f"hoverslam: error: {opt[0]} applies to --pace lockstep only"]


# --- handshake mismatches ------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_protocol_version_mismatch_is_one_clear_line():
    with FakeBoard(proto_version=99) as b:
        with pytest.raises(HandshakeError) as e:
            Session(SerialTarget(b.port)).open()
    assert str(e.value) == (f"protocol version mismatch: board speaks v99, host v{m.PROTOCOL_VERSION}; "
                            "flash matching firmware (hoverslam flash)")


@pytest.mark.timeout(60)
def test_cli_fly_against_a_board_of_another_protocol_version_exits_2():
    with FakeBoard(proto_version=99) as b:
        p = run_cli("fly", "--target", b.port)
    assert p.returncode == 2
    errs = error_lines(p.stderr)
    assert len(errs) == 1 and "protocol version mismatch: board speaks v99" in errs[0]


@pytest.mark.timeout(60)
def test_board_that_is_not_micropython_is_one_clear_line():
    with FakeBoard(impl="cpython") as b:
        with pytest.raises(HoverslamError) as e:
            Session(SerialTarget(b.port)).open()
    assert str(e.value) == "the board runs 'cpython', not MicroPython"


@pytest.mark.timeout(60)
def test_firmware_hash_mismatch_on_the_vm_is_one_clear_line(tmp_path):
    # a firmware tree that differs from this checkout by one comment
    fw = tmp_path / "firmware"
    shutil.copytree(FIRMWARE_DIR, fw)
    with open(fw / "guidance.py", "a") as f:
        f.write("# edited\n")
    target = SitlTarget(firmware_dir=fw)
    with pytest.raises(HoverslamError) as e:
        Session(target).open()
    assert str(e.value) == "firmware hash mismatch: the VM did not load this tree's firmware"
    assert target.proc is None or target.proc.poll() is not None  # reaped


@pytest.mark.timeout(120)
def test_a_board_running_other_firmware_is_refused_unless_asked_for():
    with FakeBoard(fw_hash=0x1234567) as b:
        p = run_cli("fly", "--target", b.port)
        assert p.returncode == 2
        errs = error_lines(p.stderr)
        assert len(errs) == 1 and errs[0].startswith(
            "hoverslam: error: firmware hash mismatch: the board runs 0x01234567, this checkout builds ")
        assert errs[0].endswith(f"run hoverslam flash --port {b.port} (or fly --any-firmware)")
        assert not [c for c in b.commands if c["cmd"] == m.CMD_SET_PARAM]  # refused before configuring
        Session(SerialTarget(b.port), check_hash=False).open().close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("chip", ["rp2040", "rp2350"])
def test_a_board_flashed_from_this_checkout_passes_the_hash_check(chip):
    from hil_rig.flash import image_hashes
    with FakeBoard(fw_hash=image_hashes()[chip]) as b:
        s = Session(SerialTarget(b.port)).open()
        s.close()


@pytest.mark.timeout(60)
def test_cli_fly_with_a_board_refusing_the_key_says_how_to_fix_it():
    with FakeBoard(fw_hash=expected_fw_hash(), ack_status=m.NACK_BAD_TAG) as b:
        p = run_cli("fly", "--target", b.port)
    assert p.returncode == 2
    errs = error_lines(p.stderr)
    assert len(errs) == 1 and errs[0].endswith(": bad tag: the host does not hold this board's "
                                               "command key; run hoverslam flash or pass --key")


@pytest.mark.timeout(60)
def test_cli_fly_key_option(tmp_path):
    kf = tmp_path / "board.key"
    kf.write_bytes(b"x" * 32)
    with FakeBoard(fw_hash=expected_fw_hash(), ack_status=m.NACK_NO_TAG) as b:
        p = run_cli("fly", "--target", b.port, "--key", str(kf))
        # the key file is read and used: the fake board still says no, with the hint
        assert "run hoverslam flash or pass --key" in p.stderr
        signed = [c for c in b.commands if c["cmd"] == m.CMD_SET_PARAM]
        assert signed and all(c["tag"] for c in signed)  # non-zero tags (signed)
    p = run_cli("fly", "--target", "/dev/ttyNOPE", "--key", str(tmp_path / "missing.key"))
    assert p.returncode == 2
    assert error_lines(p.stderr) == [f"hoverslam: error: cannot read key file {tmp_path / 'missing.key'}: "
                                     "No such file or directory"]


@pytest.mark.timeout(60)
def test_with_key_hint_leaves_other_errors_alone():
    e = HoverslamError("board refused command 2: not allowed in this state")
    assert cli.with_key_hint(e) is e


@pytest.mark.timeout(60)
def test_cli_bench_with_an_unknown_area_exits_2_with_one_line_naming_the_known_ones():
    p = run_cli("bench", "--only", "lockstep,warp")
    assert p.returncode == 2
    errs = error_lines(p.stderr)
    assert len(errs) == 1 and errs[0].startswith("hoverslam: error: --only lockstep,warp: "
                                                 "unknown area warp (known: lockstep, realtime")
