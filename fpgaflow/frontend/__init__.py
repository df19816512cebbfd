"""fpgaflow frontend stage."""
