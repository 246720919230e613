"""The mesh protocol version this build speaks (`Hello.protocol_major/minor`, see `proto/mesh.proto`)."""

from __future__ import annotations

# Bump the major for any change an instance of the previous release cannot understand; peers of different
# majors refuse each other. A minor bump only adds fields older readers ignore.
PROTOCOL_MAJOR = 2
PROTOCOL_MINOR = 8  # 1: throttle queries; 2: proxy-movie invalidations; 3: movie duration, join time;
#                    4: vendor-backend invalidations; 5: live channels (keys, relays); 6: excluded members;
#                    7: connection slots; 8: batched client frames, heartbeats
