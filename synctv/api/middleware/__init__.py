"""Cross-cutting request handling: errors, CORS, rate limiting, access log."""
