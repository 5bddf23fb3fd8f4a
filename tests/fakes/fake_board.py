"""A fake board on a pty for handshake tests: answers HELLO (with whatever
protocol version and firmware hash the test wants) and ACKs commands with a
chosen status.  Frames are built with the host codec (protocol.hostcodec).
chatter_s: also send a frame that often unasked, like firmware that is busy
on the line (mpremote on a pty blocks forever on a line that stays quiet)."""
import os
import select
import threading
import time
import tty

from protocol import messages as m
from protocol.hostcodec import FrameReader, FrameWriter


class FakeBoard:
    def __init__(self, fw_hash=0, proto_version=m.PROTOCOL_VERSION, impl="micropython",
                 platform="rp2", ack_status=m.ACK_OK, silent=False, chatter_s=None):
        self.fw_hash = fw_hash
        self.proto_version = proto_version
        self.impl = impl
        self.platform = platform
        self.ack_status = ack_status
        self.silent = silent
        self.chatter_s = chatter_s
        self.commands = []
        self.port = None
        self._master = self._slave = None
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        reader, writer = FrameReader(), FrameWriter()
        last = time.monotonic()
        while not self._stop.is_set():
            r, _, _ = select.select([self._master], [], [], 0.05)
            if self.chatter_s and time.monotonic() - last > self.chatter_s:
                last = time.monotonic()
                os.write(self._master, self._hello(writer))
            if not r:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            for msg_id, _seq, f in reader.feed(data):
                if msg_id != m.COMMAND:
                    continue
                self.commands.append(f)
                if self.silent:
                    continue
                if f["cmd"] == m.CMD_HELLO:
                    out = self._hello(writer)
                else:
                    out = writer.frame("ACK", {"cmd": f["cmd"], "status": self.ack_status,
                                               "counter": f["counter"], "value": f["value"]})
                os.write(self._master, out)

    def _hello(self, writer):
        return writer.frame("HELLO", {"proto_version": self.proto_version, "fw_version": 1,
                                      "fw_hash": self.fw_hash, "params_hash": 0,
                                      "impl": self.impl, "platform": self.platform})

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
