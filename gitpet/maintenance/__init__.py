"""verify and gc."""
