"""Git plumbing that knows nothing of classes.

The repository, object reading and writing, refs, locks, history walks, commits.
"""
