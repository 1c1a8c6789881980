"""The TensorFlow trainer: `model.fit` over the Keras models, XLA and `tf.distribute`."""
