"""What start-up builds lives as long as the process: frozen, the garbage collector stops walking it.

The schema, the ORM mappings and the compiled statements are tens of thousands of objects; every full
collection would traverse them again while requests and subscriptions wait, which shows as latency spikes.
"""
import gc


def freeze_startup_heap() -> None:
    gc.collect()
    gc.freeze()
