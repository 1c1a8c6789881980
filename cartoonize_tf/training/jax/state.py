"""Keras variables as JAX arrays: the state a jit-compiled training step passes in and out."""

import keras


class JaxTrainingState:
    """Named groups of Keras variables, held as arrays in `self.state` (a dict of lists).

    Subclasses compute their steps on `self.state` inside `scope(...)`, which
    lets the Keras layers read the arrays in place of their variables and
    record what they assign, and write the result back with `sync_variables`
    before a model is saved.

    Args:
        variables: dict group name -> list of Keras variables.
        generator: the generator being trained (what a run saves).
    """

    def __init__(self, variables, generator):
        if keras.backend.backend() != "jax":
            raise RuntimeError(f"{type(self).__name__} needs KERAS_BACKEND=jax")
        self.variables = variables
        self.generator = generator
        self.state = {group: [v.value for v in group_variables]
                      for group, group_variables in variables.items()}

    def scope(self, **groups):
        """A `keras.StatelessScope` mapping the named groups' variables to the given arrays."""
        mapping = [pair for group, values in groups.items()
                   for pair in zip(self.variables[group], values, strict=True)]
        return keras.StatelessScope(state_mapping=mapping)

    def render(self, photos):
        """The generator's output for `photos` in the current state (the sample grids)."""
        with self.scope(generator=self.state["generator"]):
            return self.generator(photos)

    def sync_variables(self):
        """Writes the state into the Keras variables (before saving the models)."""
        for group, group_variables in self.variables.items():
            for variable, value in zip(group_variables, self.state[group], strict=True):
                variable.assign(value)
