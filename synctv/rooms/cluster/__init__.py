"""The router's cluster parts, one job each: placement (the ring), ownership (each room's lifecycle here),
feeds (who receives a room's events), handoff (moving a room between owners), queries (instance-wide reads),
and the mesh handler that feeds the peers' messages to them. A single node uses the same parts with a ring of
one and no mesh."""
