"""Cartoonizing photos: the Cartoonizer, size policies, runtimes (backends) and batches of files."""
