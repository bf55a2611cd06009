"""The validation study: simulated KPI panels with planted effects, across scenarios."""
