"""Media work through PyAV: synthetic footage, probing, cuts, remuxes, pictures."""
