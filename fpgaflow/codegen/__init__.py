"""fpgaflow codegen stage."""
