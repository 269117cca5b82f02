"""Tests of the documentation: its examples run (test_examples.py), its site builds and works (test_site.py)."""
