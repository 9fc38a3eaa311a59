"""The compose variants of the monitoring configs (see generate.py and README.md in this directory)."""
