"""xAPI 1.0.3 (and compatible 2.0.0) statements: validation, agents, rendering. Pure, no I/O."""
