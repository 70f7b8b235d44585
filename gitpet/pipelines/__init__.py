"""Pipeline snapshots: their layout, their history, diff and status."""
