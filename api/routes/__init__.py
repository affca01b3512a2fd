"""Route modules; each defines one ``router``."""
