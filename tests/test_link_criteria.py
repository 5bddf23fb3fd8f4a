"""Link statistics are shown for every flight and held to a scenario's
[link_criteria]; link faults come from a scenario's (or fault file's) [link]."""
import json
import math

import pytest

from host.linkstats import LinkCriteria, closure_stats, histogram_line
from host.plant import ConfigError, load_fault_file, load_scenario
from tests.test_remote_targets import error_lines, run_cli


def _link(**over):
    lk = {"closure": closure_stats([100_000, 200_000, 300_000, 5_000_000]),
          "host_drops": {"crc": 2, "length": 1, "unknown_id": 0, "cobs": 3, "overflow": 0,
                         "seq_gap": 4},
          "board_drops": 5, "board_crc_errors": 1, "board_seq_gaps": 2, "steps": 1000,
          "retries": 7, "late": 3, "misses": 10}
    lk.update(over)
    return lk


@pytest.mark.timeout(10)
def test_each_limit_reads_its_figure_from_both_ends():
    crit = LinkCriteria.from_table({"max_crc_errors": 3, "max_seq_gaps": 5, "max_host_drops": 6,
                                    "max_miss_rate": 0.01, "max_closure_max_us": 4000})
    by = {c.key: c for c in crit.check(_link())}
    assert (by["max_crc_errors"].value, by["max_crc_errors"].ok) == (3, True)      # 2 + 1
    assert (by["max_seq_gaps"].value, by["max_seq_gaps"].ok) == (6, False)        # 4 + 2
    assert (by["max_host_drops"].value, by["max_host_drops"].ok) == (6, True)     # gaps not drops
    assert (by["max_miss_rate"].value, by["max_miss_rate"].ok) == (0.01, True)
    assert (by["max_closure_max_us"].value, by["max_closure_max_us"].ok) == (5000.0, False)


@pytest.mark.timeout(10)
def test_a_figure_the_board_never_reported_fails_its_limit():
    crit = LinkCriteria.from_table({"max_board_drops": 100})
    assert not crit.check(_link(board_drops=None))[0].ok


@pytest.mark.timeout(10)
@pytest.mark.parametrize("table, words", [
    ({"max_crc": 1}, "unknown key 'max_crc'"),
    ({"max_retries": -1}, "max_retries: expected a number >= 0, got -1"),
    ({"max_retries": "lots"}, "max_retries: expected a number >= 0, got 'lots'"),
    ({"max_miss_rate": 2}, "max_miss_rate: a rate must be <= 1"),
])
def test_bad_link_criteria_in_a_scenario_are_one_line_naming_file_and_key(tmp_path, table, words):
    f = tmp_path / "sc.toml"
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in table.items())
    f.write_text(f'[scenario]\nname = "x"\nvehicle = "falcon9"\n[link_criteria]\n{body}\n')
    with pytest.raises(ConfigError) as e:
        load_scenario(f)
    msg = str(e.value)
    assert msg.startswith(str(f.name)) or str(f) in msg
    assert "[link_criteria]" in msg and words in msg and "\n" not in msg


@pytest.mark.timeout(10)
@pytest.mark.parametrize("body, words", [
    ("[link]\ndrop_prob = 1.5\n", "[link]: drop_prob: a probability must be <= 1"),
    ("[wind]\nw20_mps = 3.0\n", "wind: unknown key or table"),  # a table it would ignore
    ('[scenario]\nname = "x"\nvehicle = "falcon9"\n', "fly it with --scenario"),
])
def test_bad_fault_file_is_one_line(tmp_path, body, words):
    f = tmp_path / "faults.toml"
    f.write_text(body)
    with pytest.raises(ConfigError) as e:
        load_fault_file(f)
    assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.timeout(10)
def test_noisy_link_scenario_carries_its_link_faults_and_criteria():
    sc = load_scenario("noisy_link")
    assert sc.vehicle == "falcon9"
    assert sc.link.active and sc.link.drop_prob > 0 and sc.link.ber > 0
    assert "max_retries" in sc.link_criteria.limits


@pytest.mark.timeout(10)
def test_closure_histogram_is_valid_json_and_prints_without_empty_ends():
    c = closure_stats([60_000, 70_000, 150_000, 60_000_000])
    json.loads(json.dumps(c), parse_constant=lambda x: pytest.fail(f"non-JSON number {x}"))
    assert sum(row[2] for row in c["histogram_us"]) == 4
    assert c["histogram_us"][-1][1] is None
    assert histogram_line(c["histogram_us"]).startswith("50-100:2 100-200:1")
    assert histogram_line(c["histogram_us"]).endswith(">=50000:1 us")
    assert math.isclose(c["max_us"], 60_000.0)


@pytest.mark.timeout(240)
def test_cli_flies_a_noisy_link_scenario_the_same_and_reports_both_ends(tmp_path):
    p = run_cli("fly", "--scenario", "noisy_link", "--json", timeout=200)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout, parse_constant=lambda x: pytest.fail(f"non-JSON number {x}"))
    clean = json.loads(run_cli("fly", "--json", timeout=200).stdout)
    lk = s["link"]
    assert s["passed"] and all(c["ok"] for c in s["link_criteria"])
    assert lk["injected"]["dropped"] > 0 and lk["retries"] >= lk["injected"]["dropped"]
    assert lk["board_drops"] > 0 and lk["board_crc_errors"] is not None
    assert sum(lk["host_drops"].values()) > 0
    # lockstep re-sends what the link lost: the same flight as on a clean link
    for key in ("touchdown_vz_mps", "touchdown_vh_mps", "miss_m", "sim_time_s", "verdict"):
        assert s[key] == clean[key], key
    # the states come from the board's EVENT frames, which cross the noisy downlink
    # too and are not sent again: the report may miss one (where depends on timing)
    rest = iter(clean["states"])
    assert all(state in rest for state in s["states"]), (s["states"], clean["states"])
    assert clean["downlink_frames_missing"] == 0
    assert s["states"] == clean["states"] or s["downlink_frames_missing"] > 0


@pytest.mark.timeout(240)
def test_cli_fly_fails_a_landing_whose_link_misses_its_criteria(tmp_path):
    f = tmp_path / "tight.toml"
    f.write_text("[link_criteria]\nmax_closure_p99_us = 1\nmax_crc_errors = 0\n")
    p = run_cli("fly", "--faults", str(f), timeout=200)
    assert p.returncode == 1, p.stderr
    assert error_lines(p.stderr) == []
    last = p.stdout.strip().splitlines()[-1]
    assert last.startswith("verdict: LANDED; link criteria FAILED: closure latency p99 ")
    assert "CRC errors" not in last  # the clean link met that one
    assert "ok <= 0" in p.stdout and "FAIL <= 1" in p.stdout


@pytest.mark.timeout(60)
def test_cli_scenario_and_vehicle_together_is_one_line():
    p = run_cli("fly", "--scenario", "noisy_link", "--vehicle", "hobby_f15")
    assert p.returncode == 2
    assert error_lines(p.stderr) == ["hoverslam: error: --vehicle and --scenario: the scenario "
                                     "names its vehicle; give one of the two"]
