"""Code generated from the export proto by ``footage.api.grpc.codegen``."""
