"""The RTL backend: Verilog-2005 for the hardware graph, Verilator co-simulation, Yosys synthesis.

See docs/rtl.md for the conventions every generated module follows.
"""
