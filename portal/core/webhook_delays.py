"""PORTAL_WEBHOOK_RETRY_SECONDS: the delays between the attempts of one webhook delivery."""
import math


def parse_delays(value: object) -> list[float]:
    """"5,300,1800" (or a list of numbers) as seconds; each one finite and not negative. Empty: no retries."""
    if isinstance(value, str):
        parts: list[object] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise ValueError(f"{value!r} is not a list of seconds: write them comma-separated, like 5,300,1800")
    delays = []
    for part in parts:
        try:
            seconds = float(part)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{part!r} is not a number of seconds: write them comma-separated, "
                             "like 5,300,1800") from None
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{part!r} is not a number of seconds of 0 or more")
        delays.append(seconds)
    return delays
