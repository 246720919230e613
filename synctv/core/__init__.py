"""Sans-IO domain: playback clock, room state machine, permissions, validation. No I/O, no clocks read."""
