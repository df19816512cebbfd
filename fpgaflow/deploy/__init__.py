"""fpgaflow deploy stage."""
