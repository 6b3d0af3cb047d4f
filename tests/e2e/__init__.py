"""Helpers for the dashboard's end-to-end tests (headless Chromium against a live Voila)."""
