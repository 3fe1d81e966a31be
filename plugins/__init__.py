"""Built-in rhbench plugins: one module per DGVM and per observation product."""
