"""Small helpers with no model in them: image files, atomic writes, picture-quality figures."""
