"""The dashboard served by the api: sessions and CSRF (``session``), security headers
(``headers``), the trend chart as inline SVG (``chart``), page view models (``views``)
and the Jinja2 templates with autoescaping (``render``)."""
