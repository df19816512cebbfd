"""fpgaflow sim stage."""
