"""The live sale page: per-minute snapshots of each sale (recorded by the beat) drawn as charts that
refresh themselves, with the figures of this very moment beside them and a CSV export."""
