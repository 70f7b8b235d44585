"""Helpers another corpus module takes: captured.py holds them in a section of their own (format 3)."""

RATE = 2


def scaled(x):
    return x * RATE


class Measured:
    def unit(self):
        return "cm"
