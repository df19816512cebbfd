"""fpgaflow layers stage."""
