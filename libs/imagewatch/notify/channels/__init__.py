"""Chat channel renderers, one module per service, listed in ``registry``."""
