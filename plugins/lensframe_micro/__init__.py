"""Standard microlensing plugin of lensframe: point, binary and triple lenses, light curves."""
