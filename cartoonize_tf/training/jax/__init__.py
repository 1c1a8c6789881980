"""The JAX trainer (`KERAS_BACKEND=jax`): jit-compiled steps over arrays, a plain loop."""
