"""The serving core both front ends share: the served versions, running a request, its
size checks and memory budget, and the errors with their gRPC codes."""
