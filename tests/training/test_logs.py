"""route_lightning_logs: Lightning's records reach the root handler, once."""

from __future__ import annotations

import logging

from synesthesia.training.logs import route_lightning_logs


def test_lightning_records_propagate_to_the_root_logger(caplog):
    import lightning  # noqa: F401  (attaches Lightning's own handlers)

    route_lightning_logs()
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate and logger.level == logging.NOTSET
    with caplog.at_level(logging.INFO):
        logging.getLogger("lightning.pytorch").info("GPU available: False")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False"]
