"""The HTTP API: the REST endpoints under /api/v1, the web page, its templates and assets."""
