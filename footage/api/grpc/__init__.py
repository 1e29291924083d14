"""The gRPC export API (``footage.export.v1.ExportService``): proto, generated code, servicer."""
