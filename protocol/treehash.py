"""Firmware identity: a SHA-256 over the deployed source files, computed the
same way by the board at boot and by the host before a run, so a HELLO tells
whether the board runs exactly the tree the host expects.
"""
import hashlib
import os

EXTS = (".py", ".mpy")


def tree_hash32(dirs):
    """First 30 bits of SHA-256 over (name, bytes) of every .py/.mpy file in
    dirs, files sorted by name within each dir (30 bits: a small int on rp2)."""
    h = hashlib.sha256()
    chunk = bytearray(512)
    mv = memoryview(chunk)
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            if not (name.endswith(EXTS[0]) or name.endswith(EXTS[1])):
                continue
            if name.startswith("host") or name == "docs.py":
                continue  # host-only modules of protocol/ are not deployed
            h.update(name.encode())
            with open(d + "/" + name, "rb") as f:
                while True:
                    n = f.readinto(chunk)
                    if not n:
                        break
                    h.update(mv[:n])
    b = h.digest()
    return b[0] | (b[1] << 8) | (b[2] << 16) | ((b[3] & 0x3F) << 24)
