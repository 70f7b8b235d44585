"""The ``gitpet`` command line, built on the public API."""
