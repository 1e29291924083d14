"""footage: export server and download toolkit for recorded surveillance video."""

__version__ = "0.1.0"
