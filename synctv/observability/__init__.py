"""Cross-cutting operations support: Prometheus metrics and OpenTelemetry tracing."""
