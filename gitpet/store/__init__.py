"""Versions of classes over :mod:`gitpet.git`.

The version index, the one spec resolver, the one history writer, tags.
"""
