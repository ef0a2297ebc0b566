"""states layer."""
