"""Readers and writers: wide CSV/TSV, GeneMapper ID/ID-X export, YHRD-style tables, canonical JSON."""

from patriline.io.model import Problem, ReadError, ReadResult, Record

__all__ = ["Problem", "ReadError", "ReadResult", "Record"]
