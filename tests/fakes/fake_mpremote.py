"""Stands in for the `mpremote` command: records its argv (one JSON line per
call to $FAKE_MPREMOTE_LOG) and answers with $FAKE_MPREMOTE_OUT / _ERR / _RC."""
import json
import os
import sys

with open(os.environ["FAKE_MPREMOTE_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
sys.stdout.write(os.environ.get("FAKE_MPREMOTE_OUT", ""))
sys.stderr.write(os.environ.get("FAKE_MPREMOTE_ERR", ""))
sys.exit(int(os.environ.get("FAKE_MPREMOTE_RC", "0")))
