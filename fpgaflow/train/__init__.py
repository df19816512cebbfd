"""fpgaflow train stage."""
