"""The updater service: keeps the advisory store current."""
