"""The operator's view: Prometheus metrics and structured logs."""
