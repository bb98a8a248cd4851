"""Logging: stderr (journald adds the time), `%(levelname)s %(name)s: %(message)s`.

Raw AT traffic goes to the `gateway.wire` logger, which is silent unless the wire log is switched on.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(levelname)s %(name)s: %(message)s"
WIRE = "gateway.wire"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of each record (it may be replaced after setup)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - logging's own attribute
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001 - StreamHandler.__init__ assigns it
        pass


def setup(level: str = "INFO", *, verbose: bool = False, wire: bool = False) -> None:
    """Configure the root handler once; `verbose` forces DEBUG, `wire` enables the AT wire log."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_smsgw", False):
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler._smsgw = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else getattr(logging, level.upper(), logging.INFO))
    wire_logger = logging.getLogger(WIRE)
    wire_logger.setLevel(logging.DEBUG if wire else logging.CRITICAL + 1)
    wire_logger.propagate = True
    for noisy in ("waitress", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.INFO if verbose else logging.WARNING))
