"""Pieces several Lambda runtimes (and the local tools built on them) share."""
