"""`portal serve` (one process) with cProfile switched on by SIGUSR1 and written out by SIGUSR2.

Each SIGUSR2 writes the profile gathered since the last SIGUSR1 to PREFIX-<n>.prof (n = 1, 2, ...).
Run: .venv/bin/python bench/profiled_serve.py PORT PREFIX  (PORTAL_* settings from the environment)
"""
import cProfile
import signal
import sys
from types import FrameType

from portal.cli import serve

port, prefix = int(sys.argv[1]), sys.argv[2]
profiler = cProfile.Profile()
written = 0


def start(_signal: int, _frame: FrameType | None) -> None:
    global profiler
    profiler = cProfile.Profile()
    profiler.enable()


def stop(_signal: int, _frame: FrameType | None) -> None:
    global written
    profiler.disable()
    written += 1
    profiler.dump_stats(f"{prefix}-{written}.prof")


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
serve(host="127.0.0.1", port=port, workers=1)
