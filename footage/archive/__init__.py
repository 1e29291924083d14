"""Archive sources: where footage comes from (local layouts with an index, later NVRs and live)."""
