"""The face pipeline: detect → track → quality → liveness → identify → decide → punch (docs/face.md)."""
