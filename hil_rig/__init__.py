"""The HIL rig: targets (SITL VM, serial boards, remote boards), flashing,
scenarios, campaigns, benchmarks and reports."""
