"""protocol/PROTOCOL.md is generated from the tables and kept up to date."""
import re

import pytest

from protocol import docs
from protocol import messages as m
from protocol import parameters as params


@pytest.mark.timeout(30)
def test_protocol_page_is_up_to_date():
    assert docs.PATH.read_text(encoding="utf-8") == docs.render(), \
        "protocol/PROTOCOL.md is out of date: run python -m protocol.docs"


@pytest.mark.timeout(30)
def test_protocol_page_lists_every_message_field_and_parameter():
    text = docs.render()
    assert f"version {m.PROTOCOL_VERSION}" in text
    for mid, name, direction, crcw, fields in m.MESSAGES:
        sec = text.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        assert f"CRC-{crcw * 8}" in sec
        rows = re.findall(r"^\| \d+ \| `(\w+)` \|", sec, flags=re.M)
        assert rows == [f[0] for f in fields], name
        for fname, code, desc in fields:
            line = next(ln for ln in sec.splitlines() if f"| `{fname}` |" in ln)
            assert desc.replace("|", "\\|") in line
            unit = docs.unit_of(fname)
            if unit:
                assert docs.UNIT_TEXT[unit] in line, (name, fname)
            if unit in m.SI_UNITS:
                assert "× %g" % m.SI_UNITS[unit][1] in line, (name, fname)
    for i, (pname, default, lo, hi) in enumerate(params.TABLE):
        assert re.search(r"^\| %d \| `%s` \| [^|]+ \| %d \| %d \| %d \|" % (i, pname, default, lo, hi),
                         text, flags=re.M), pname
    for reason in m.NACK_NAMES:
        assert f"| {reason} |" in text


@pytest.mark.timeout(30)
def test_every_unit_suffix_in_the_tables_is_known():
    # a new unit suffix must be added to docs.UNIT_TEXT (and SI_UNITS if it scales)
    known_unitless = {"step", "flags", "state", "code", "arg", "text", "cmd", "status", "value",
                      "counter", "tag", "param_id", "impl", "platform", "fw_version", "fw_hash",
                      "params_hash", "proto_version", "heap_free", "gc_count", "rx_frames",
                      "rx_drops", "rx_crc_errors", "rx_seq_gaps", "state_from", "state_to", "ev_no"}
    for row in m.MESSAGES:
        for fname, _, _ in row[4]:
            assert docs.unit_of(fname) or fname in known_unitless, fname
    for u in m.SI_UNITS:
        assert u in docs.UNIT_TEXT
