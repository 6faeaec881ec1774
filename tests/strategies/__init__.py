"""Hypothesis strategies shared by every property test."""
