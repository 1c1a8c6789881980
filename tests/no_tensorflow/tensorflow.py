"""Put first on PYTHONPATH, this makes `import tensorflow` fail as if it were not installed."""

raise ImportError("TensorFlow is out of reach in this test: the JAX path must not import it")
