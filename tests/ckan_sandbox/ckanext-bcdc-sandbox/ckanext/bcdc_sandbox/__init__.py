"""Sandbox plugin for bcdc-bulk tests."""
