"""Deployment populations: an organization's own labelled rows, on which every model version is
measured but which never decide anything (docs/populations.md)."""
