"""A TF-Serving-compatible server for exported SavedModels: registry, prediction, gRPC and REST."""
