"""The package version: one place, importable without importing the package's modules."""

__version__ = "0.1.0.dev0"
