"""botwatch: find scripted spam replies on social networks."""

__version__ = "0.1.0"
