"""TF Serving's gRPC API, on grpc's asyncio server."""
