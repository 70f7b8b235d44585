"""Classes to version files and back.

Imports only :mod:`gitpet.format`, :mod:`gitpet.errors` and :mod:`gitpet.rebuild`.
"""
