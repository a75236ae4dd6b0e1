"""A unit that answers ZKTeco's standalone protocol on port 4370 (TCP and UDP), so the
attendance servers and connector applications built for ZKTeco-family machines read it as
they read the old machine. See docs/interop.md."""
