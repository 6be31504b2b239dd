"""updater."""
