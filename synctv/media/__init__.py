"""Outbound media: the shared fetcher (SSRF-guarded, pooled, bounded), HLS rewriting, proxy target tokens, the
slice cache, and the registry of running proxy streams. Imports aiohttp's client; never the web layer."""
