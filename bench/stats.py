"""Percentiles of latency samples, in milliseconds."""
import statistics


def summarize(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def pick(quantile: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99),
            "mean": round(statistics.fmean(ordered) * 1000, 1)}
