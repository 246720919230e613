"""Live streaming: RTMP ingest, channels (GOP cache, HLS segmenter), HTTP-FLV and HLS outputs."""
