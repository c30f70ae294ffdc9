"""What an operator watches: metrics, structured logs and traces (and `portal check`'s probes)."""
