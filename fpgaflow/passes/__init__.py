"""fpgaflow passes stage."""
