"""The network APIs (HTTP/REST + web page, gRPC): translations onto tasks and archive."""
