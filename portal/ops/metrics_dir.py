"""The directory where `portal serve`'s workers write their metrics; prepared before prometheus_client loads.

prometheus_client chooses between in-process and multi-process values when it is imported, from
PROMETHEUS_MULTIPROC_DIR: so this module imports nothing of it.
"""
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_dir() -> Iterator[str]:
    """PROMETHEUS_MULTIPROC_DIR if the operator set it (emptied of an earlier run's files), else a new
    temporary directory, removed when the server stops; the variable is set for the workers to inherit."""
    given = os.environ.get(VARIABLE)
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        yield given
        return
    created = tempfile.mkdtemp(prefix="portal-metrics-")
    os.environ[VARIABLE] = created
    try:
        yield created
    finally:
        os.environ.pop(VARIABLE, None)
        shutil.rmtree(created, ignore_errors=True)
