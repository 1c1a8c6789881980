"""Selective-search hierarchical grouping (Uijlings et al., IJCV 2013) of an over-segmentation.

Starting from an initial label map (Felzenszwalb's, say), the two adjacent
regions that are most alike are merged, again and again, until a target
number of regions remains. "Alike" adds up to four similarities, each in
[0, 1]: colour (histogram intersection), texture (histogram intersection of
oriented gradients), size (favours merging small regions first) and fill
(favours pairs whose bounding box they fill well).
"""

import heapq

import numpy as np
from scipy import ndimage

COLOUR_BINS = 25
TEXTURE_BINS = 10
TEXTURE_ORIENTATIONS = 8
# (low, high) of each Lab channel, for the colour histogram.
LAB_RANGES = ((0.0, 100.0), (-128.0, 127.0), (-128.0, 127.0))
SIMILARITIES = "CTSF"  # colour, texture, size, fill


def region_histograms(labels, bins, num_regions, bins_per_feature):
    """Per-region histograms from per-pixel bin indices `[H, W, F]`, each feature L1-normalised."""
    num_features = bins.shape[-1]
    offsets = np.arange(num_features) * bins_per_feature
    flat = (labels[..., None] * (num_features * bins_per_feature) + offsets + bins).ravel()
    counts = np.bincount(flat, minlength=num_regions * num_features * bins_per_feature)
    hist = counts.reshape(num_regions, num_features * bins_per_feature).astype(np.float64)
    return hist / np.maximum(hist.sum(axis=1, keepdims=True), 1.0)


def colour_bins(lab):
    """Bin index of each pixel in each Lab channel."""
    channels = []
    for channel, (low, high) in enumerate(LAB_RANGES):
        scaled = (lab[..., channel] - low) / (high - low) * COLOUR_BINS
        channels.append(np.clip(scaled.astype(np.int64), 0, COLOUR_BINS - 1))
    return np.stack(channels, axis=-1)


def texture_bins(lab):
    """Bin index of each pixel's Gaussian derivative in 8 orientations, per channel."""
    features = []
    angles = np.arange(TEXTURE_ORIENTATIONS) * (2 * np.pi / TEXTURE_ORIENTATIONS)
    for channel in range(3):
        smoothed = lab[..., channel]
        gy = ndimage.gaussian_filter(smoothed, 1.0, order=(1, 0))
        gx = ndimage.gaussian_filter(smoothed, 1.0, order=(0, 1))
        for angle in angles:
            response = np.maximum(np.cos(angle) * gx + np.sin(angle) * gy, 0.0)
            top = response.max()
            scaled = response / top * TEXTURE_BINS if top > 0 else response
            features.append(np.clip(scaled.astype(np.int64), 0, TEXTURE_BINS - 1))
    return np.stack(features, axis=-1)


def adjacent_pairs(labels):
    """Set of `(i, j)`, `i < j`, of labels that touch horizontally or vertically."""
    pairs = set()
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1, :], labels[1:, :])):
        differ = a != b
        lo = np.minimum(a[differ], b[differ])
        hi = np.maximum(a[differ], b[differ])
        pairs.update(zip(lo.tolist(), hi.tolist()))
    return pairs


class RegionGrouping:
    """Greedy merging of adjacent regions by selective-search similarity.

    Args:
        lab: float image `[H, W, 3]` in CIE Lab.
        labels: int label map `[H, W]` with labels 0..N-1.
        similarities: which of "C", "T", "S", "F" to add up.
    """

    def __init__(self, lab, labels, similarities=SIMILARITIES):
        self.labels = labels
        self.similarities = similarities
        self.image_size = float(labels.size)
        count = int(labels.max()) + 1
        self.size = np.bincount(labels.ravel(), minlength=count).astype(np.float64)
        self.colour = region_histograms(labels, colour_bins(lab), count, COLOUR_BINS)
        self.texture = region_histograms(labels, texture_bins(lab), count, TEXTURE_BINS)
        self.boxes = self._bounding_boxes(labels, count)
        self.neighbours = {r: set() for r in range(count)}
        for i, j in adjacent_pairs(labels):
            self.neighbours[i].add(j)
            self.neighbours[j].add(i)
        self.alive = set(int(r) for r in np.flatnonzero(self.size))
        self.parent = list(range(count))

    @staticmethod
    def _bounding_boxes(labels, count):
        boxes = np.zeros((count, 4))  # y0, x0, y1, x1 (exclusive)
        for region, found in enumerate(ndimage.find_objects(labels + 1, max_label=count)):
            if found is not None:
                boxes[region] = (found[0].start, found[1].start, found[0].stop, found[1].stop)
        return boxes

    def similarity(self, i, j):
        score = 0.0
        if "C" in self.similarities:
            score += np.minimum(self.colour[i], self.colour[j]).sum()
        if "T" in self.similarities:
            score += np.minimum(self.texture[i], self.texture[j]).sum()
        if "S" in self.similarities:
            score += 1.0 - (self.size[i] + self.size[j]) / self.image_size
        if "F" in self.similarities:
            box = np.concatenate([np.minimum(self.boxes[i, :2], self.boxes[j, :2]),
                                  np.maximum(self.boxes[i, 2:], self.boxes[j, 2:])])
            box_size = (box[2] - box[0]) * (box[3] - box[1])
            score += 1.0 - (box_size - self.size[i] - self.size[j]) / self.image_size
        return score

    def merge(self, i, j):
        """Merges region `j` into region `i`."""
        total = self.size[i] + self.size[j]
        for features in (self.colour, self.texture):
            features[i] = (features[i] * self.size[i] + features[j] * self.size[j]) / total
        self.boxes[i, :2] = np.minimum(self.boxes[i, :2], self.boxes[j, :2])
        self.boxes[i, 2:] = np.maximum(self.boxes[i, 2:], self.boxes[j, 2:])
        self.size[i] = total
        self.parent[j] = i
        self.alive.discard(j)
        for other in self.neighbours.pop(j):
            self.neighbours[other].discard(j)
            if other != i:
                self.neighbours[other].add(i)
                self.neighbours[i].add(other)
        self.neighbours[i].discard(j)

    def group(self, num_regions):
        """Merges until at most `num_regions` remain; returns the new label map (0..K-1)."""
        version = dict.fromkeys(self.alive, 0)
        heap = [(-self.similarity(i, j), i, j, 0, 0)
                for i in self.alive for j in self.neighbours[i] if i < j]
        heapq.heapify(heap)
        while len(self.alive) > num_regions and heap:
            _, i, j, version_i, version_j = heapq.heappop(heap)
            if i not in self.alive or j not in self.alive:
                continue
            if version[i] != version_i or version[j] != version_j:
                continue  # a stale score: one side has grown since it was computed
            self.merge(i, j)
            version[i] += 1
            for other in self.neighbours[i]:
                a, b = (i, other) if i < other else (other, i)
                heapq.heappush(heap, (-self.similarity(a, b), a, b, version[a], version[b]))
        return self.final_labels()

    def final_labels(self):
        roots = np.array([self._root(r) for r in range(len(self.parent))])
        _, compact = np.unique(roots, return_inverse=True)
        return compact[self.labels]

    def _root(self, region):
        while self.parent[region] != region:
            self.parent[region] = self.parent[self.parent[region]]
            region = self.parent[region]
        return region
