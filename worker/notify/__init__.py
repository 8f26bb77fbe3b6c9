"""Notifications: the events an outcome produces, the outbox, and the sinks they go to."""
