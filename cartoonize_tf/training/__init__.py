"""Training: a backend-neutral core (settings, objectives, run folder, the loop body) and one
room per backend, `tensorflow/` and `jax/`, each with its steps, builders and driver."""
