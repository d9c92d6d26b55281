"""voiceguide: voice-guided acupressure routines you can follow with your eyes closed."""

__version__ = "0.1.0"
