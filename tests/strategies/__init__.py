"""Hypothesis strategies for salesflow's tests, kept in one place (one module per domain)."""
