"""Batches: many field sets for one template, queued and rendered by the workers."""
