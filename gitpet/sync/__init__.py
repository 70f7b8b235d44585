"""Remotes: their configuration, the ref-decision table, fetch and push."""
