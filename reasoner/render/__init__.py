"""Renderers: text for the terminal, JSON for machines."""
