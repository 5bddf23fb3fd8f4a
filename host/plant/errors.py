"""ConfigError: a bad vehicle, motor, fault or scenario file, as one line.

str(e) names the file and the key, e.g.
  host/data/vehicles/f9.toml: [engine] isp_s: expected a number > 0, got 'abc'
"""
import os
from pathlib import Path

try:
    from host.errors import HoverslamError as _Base
except ImportError:  # pragma: no cover - the plant used on its own
    _Base = Exception


class ConfigError(_Base, ValueError):
    """A configuration file (or override) is invalid; str() is one line."""

    def __init__(self, msg):
        super().__init__(" ".join(str(msg).split()))


def display_path(path):
    """The path as a user would type it: relative to the working directory if inside it."""
    p = Path(path)
    try:
        rel = os.path.relpath(p.resolve())
    except ValueError:
        return str(p)
    return rel if not rel.startswith("..") else str(p.resolve())


def read_toml(path, missing="file not found"):
    """(data, where) of a TOML file; a missing file or a syntax error is one
    ConfigError line naming the file (`missing` says what was not found)."""
    import tomllib
    where = display_path(path)
    try:
        return tomllib.loads(Path(path).read_text()), where
    except FileNotFoundError:
        raise ConfigError(f"{where}: {missing}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: TOML syntax error: {e}") from None


def fmt_value(v):
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."
