"""The persistent contract, pure.

A version's files, names and ref layout, dumps, bounds on stored content.
"""
