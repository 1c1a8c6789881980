"""Reading and writing a SavedModel's signature definitions (its `saved_model.pb`).

TensorFlow's protocol buffers are imported when a function runs, not with this module.
"""

from pathlib import Path

from cartoonize_tf.contract.layout import SAVED_MODEL_FILE


def read_saved_model(folder):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((Path(folder) / SAVED_MODEL_FILE).read_bytes())
    return proto


def signature_defs(folder):
    """The SignatureDefs of the SavedModel in `folder`, {name: SignatureDef}, without
    TensorFlow's internal ones (names starting with "__")."""
    return {name: definition
            for name, definition in read_saved_model(folder).meta_graphs[0].signature_def.items()
            if not name.startswith("__")}


def signature_defaults(folder, signature):
    """The default values a SavedModel's `signature` declares for its inputs, {name: array}."""
    import tensorflow as tf

    return {name: tf.make_ndarray(value)
            for name, value in signature_defs(folder)[signature].defaults.items()}


def write_signature_defaults(folder, defaults):
    """Sets `defaults` ({signature: {input: float}}, float32 scalars) as the SignatureDefs'
    default values in the SavedModel in `folder` (`keras.export` has no way to declare them),
    and writes its fingerprint anew."""
    import tensorflow as tf
    from tensorflow.python.saved_model import fingerprinting_utils

    proto = read_saved_model(folder)
    for signature, values in defaults.items():
        declared = proto.meta_graphs[0].signature_def[signature].defaults
        for name, value in values.items():
            declared[name].CopyFrom(tf.make_tensor_proto(float(value), tf.float32))
    (Path(folder) / SAVED_MODEL_FILE).write_bytes(proto.SerializeToString())
    fingerprinting_utils.write_fingerprint(str(folder))
