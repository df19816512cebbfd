"""fpgaflow estimate stage."""
