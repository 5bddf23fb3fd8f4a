"""Every reason the firmware gives in an EVENT fits the 24-byte text field
(a cut reason is a lie in the log)."""
import re
from pathlib import Path

import pytest

from protocol import messages as m

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"


@pytest.mark.timeout(30)
def test_every_event_reason_fits_the_text_field():
    size = int(dict((f[0], f[1]) for f in m.find(m.EVENT)[4])["text"][:-1])
    texts = []
    for f in FIRMWARE.glob("*.py"):
        texts += re.findall(r'(?:abort|fault|go|disarm|emit)\([^")]*"([^"]+)"', f.read_text())
    assert len(texts) > 10
    too_long = [t for t in texts if len(t) > size]
    assert not too_long, too_long
