"""Selective-search hierarchical grouping (Uijlings et al., IJCV 2013) of an over-segmentation.

Starting from an initial label map (Felzenszwalb's, say), the two adjacent
regions that are most alike are merged, again and again. "Alike" adds up to
four similarities, each in [0, 1]: colour (histogram intersection), texture
(histogram intersection), size (favours merging small regions first) and fill
(favours pairs whose bounding box they fill well).

Two groupings live here:

- `AuthorsGrouping` does what the authors' `train_code/selective_search`
  does, peculiarities included, so that the `adaptive` structure target
  equals theirs (checked against `authors_superpixel_golden`):
  - every histogram is `np.histogram(values, bins)` of one region in one
    channel, i.e. binned over that region's own min..max (colour: 25 bins,
    texture: 10 bins), the channels concatenated and L1-normalised;
  - it is fed the Lab image of the regions already filled with their mean
    colour, so an initial region's colour histogram is a single bin and the
    colour similarity of any two regions is 1;
  - texture is a local binary pattern (8 neighbours, radius 1) of each Lab
    channel, not Gaussian derivatives;
  - every initial region's size is the pixel count of label 1 (their code
    counts `img_seg == 1` for every region), merged sizes add up; the image
    size in the size and fill terms is `H * W * 3`;
  - a merge makes a new region (label one above the largest), and it stops
    once the number of adjacent PAIRS, not regions, is at most the target;
  - ties go to the pair scored last (they take the last of a stable sort).
- `RegionGrouping` is the project's own reading of the paper: true sizes,
  colour histograms of the image itself on fixed Lab ranges, oriented
  Gaussian-derivative textures, stopping at a number of regions.
"""

import heapq
import itertools
import threading
import warnings

import numpy as np
from scipy import ndimage
from skimage.feature import local_binary_pattern

COLOR_BINS = 25
TEXTURE_BINS = 10
TEXTURE_ORIENTATIONS = 8
# (low, high) of each Lab channel, for the colour histogram.
LAB_RANGES = ((0.0, 100.0), (-128.0, 127.0), (-128.0, 127.0))
SIMILARITIES = "CTSF"  # colour, texture, size, fill
LBP_POINTS = 8  # the authors' texture: local binary patterns, 8 neighbours at radius 1
LBP_RADIUS = 1
_lbp_lock = threading.Lock()  # the warning filter around skimage's LBP is process-wide


def region_histograms(labels, bins, num_regions, bins_per_feature):
    """Per-region histograms from per-pixel bin indices `[H, W, F]`, each feature L1-normalised."""
    num_features = bins.shape[-1]
    offsets = np.arange(num_features) * bins_per_feature
    flat = (labels[..., None] * (num_features * bins_per_feature) + offsets + bins).ravel()
    counts = np.bincount(flat, minlength=num_regions * num_features * bins_per_feature)
    hist = counts.reshape(num_regions, num_features * bins_per_feature).astype(np.float64)
    return hist / np.maximum(hist.sum(axis=1, keepdims=True), 1.0)


def color_bins(lab):
    """Bin index of each pixel in each Lab channel."""
    channels = []
    for channel, (low, high) in enumerate(LAB_RANGES):
        scaled = (lab[..., channel] - low) / (high - low) * COLOR_BINS
        channels.append(np.clip(scaled.astype(np.int64), 0, COLOR_BINS - 1))
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
        pairs.update(zip(lo.tolist(), hi.tolist(), strict=True))
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
        self.colour = region_histograms(labels, color_bins(lab), count, COLOR_BINS)
        self.texture = region_histograms(labels, texture_bins(lab), count, TEXTURE_BINS)
        self.boxes = self._bounding_boxes(labels, count)
        self.neighbours = {r: set() for r in range(count)}
        for i, j in adjacent_pairs(labels):
            self.neighbours[i].add(j)
            self.neighbours[j].add(i)
        self.alive = {int(r) for r in np.flatnonzero(self.size)}
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


def sorted_by_region(labels):
    """Pixel order grouping `labels` (0..N-1) by region, raster order within; each region's start."""
    flat = labels.ravel()
    small = flat.astype(np.uint16) if flat.max() < 2 ** 16 else flat  # radix sort: faster
    order = np.argsort(small, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(int(flat.max()) + 1))
    return order, starts


def region_means_as_numpy(image, labels):
    """Each region's mean colour exactly as `image[labels == r].mean(axis=0)` computes it.

    numpy sums the rows of a region one after another in the image's dtype
    (float32 here); the same sum over the same contiguous rows gives the same
    bits, which matters because the texture histograms that follow compare
    neighbouring pixels of the filled image. Labels must be 0..N-1, all used.
    """
    order, starts = sorted_by_region(labels)
    rows = image.reshape(-1, image.shape[-1])[order]
    bounds = np.append(starts, len(rows))
    return np.stack([rows[a:b].mean(axis=0) for a, b in itertools.pairwise(bounds)])


def own_range_histograms(values, labels, bins):
    """`[N, C * bins]`: per region and channel `np.histogram(region_values, bins)`, L1-normalised.

    Vectorised over regions: each region is binned over its own min..max (a
    constant region over value -+ 0.5), with numpy's arithmetic (in the
    values' dtype) and its corrections at the bin edges, so the counts are
    numpy's. Labels must be 0..N-1, all used.
    """
    order, starts = sorted_by_region(labels)
    num_regions = len(starts)
    region = np.repeat(np.arange(num_regions), np.diff(np.append(starts, labels.size)))
    histograms = []
    for channel in range(values.shape[-1]):
        value = values[..., channel].ravel()[order]
        low = np.minimum.reduceat(value, starts)
        high = np.maximum.reduceat(value, starts)
        constant = low == high
        low = np.where(constant, low - 0.5, low).astype(value.dtype)
        high = np.where(constant, high + 0.5, high).astype(value.dtype)
        edges = np.linspace(low, high, bins + 1, axis=-1, dtype=value.dtype)
        width = high - low
        index = ((value - low[region]) / width[region] * bins).astype(np.intp)
        index[index == bins] -= 1
        index[value < edges[region, index]] -= 1
        index[(value >= edges[region, index + 1]) & (index != bins - 1)] += 1
        counts = np.bincount(region * bins + index, minlength=num_regions * bins)
        histograms.append(counts.reshape(num_regions, bins))
    counts = np.concatenate(histograms, axis=1).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def local_binary_patterns(image):
    """skimage's default LBP (8 neighbours, radius 1) of each channel, `[H, W, C]` float64."""
    with _lbp_lock, warnings.catch_warnings():
        # It warns for every float image; the authors' pattern is of a float Lab image.
        warnings.filterwarnings("ignore", message=".*local_binary_pattern", category=UserWarning)
        return np.stack([local_binary_pattern(image[..., c], LBP_POINTS, LBP_RADIUS)
                         for c in range(image.shape[-1])], axis=-1)


def ordered_adjacent_pairs(labels):
    """`[P, 2]` int array of touching labels `(i, j)`, `i < j`, sorted by i then j."""
    pairs = np.array(sorted(adjacent_pairs(labels)), dtype=np.int64)
    return pairs.reshape(-1, 2)


class AuthorsGrouping:
    """Selective-search grouping as the authors' training code does it (see the module notes).

    Args:
        lab: float image `[H, W, C]`, the Lab image of `labels`'s regions
            filled with their mean colour (what the authors pass).
        labels: int label map `[H, W]`, as Felzenszwalb gives it (0..N-1).
        similarities: which of "C", "T", "S", "F" to add up.

    Example:
        >>> from skimage import color, data, segmentation, transform
        >>> rgb = transform.resize(data.astronaut(), (64, 64))
        >>> labels = segmentation.felzenszwalb(rgb, scale=10, sigma=0.8, min_size=10)
        >>> lab = color.rgb2lab(region_means_as_numpy(rgb, labels)[labels])
        >>> grouped = AuthorsGrouping(lab, labels).group(max_pairs=20)
        >>> bool(grouped.max() < labels.max())  # fewer regions, labelled 0..K-1
        True
    """

    def __init__(self, lab, labels, similarities=SIMILARITIES):
        self.similarities = similarities
        self.image_size = lab.size
        _, compact = np.unique(labels, return_inverse=True)
        self.labels = compact.reshape(labels.shape)
        count = int(self.labels.max()) + 1
        capacity = 2 * count  # every merge adds one region
        self.size = np.zeros(capacity, np.int64)
        # Their measure, for every region (at least 1: no 0 / 0 when a map has no label 1).
        self.size[:count] = max(np.count_nonzero(labels == 1), 1)
        self.boxes = np.zeros((capacity, 4), np.int64)  # x0, y0, x1, y1 (exclusive)
        for region, (rows, cols) in enumerate(ndimage.find_objects(self.labels + 1)):
            self.boxes[region] = (cols.start, rows.start, cols.stop, rows.stop)
        self.colour = np.zeros((capacity, lab.shape[-1] * COLOR_BINS))
        self.colour[:count] = own_range_histograms(lab, self.labels, COLOR_BINS)
        self.texture = np.zeros((capacity, lab.shape[-1] * TEXTURE_BINS))
        self.texture[:count] = own_range_histograms(local_binary_patterns(lab), self.labels,
                                                    TEXTURE_BINS)
        self.count = count
        self.parent = np.arange(capacity)

    def similarity(self, first, second):
        """Similarity of regions `first` and `second` (index arrays, or one region against many).

        Added up in the authors' order, each histogram intersection summed left
        to right as theirs is (cumsum's last entry), so that equal scores, and
        thus ties, come out equal here too.
        """
        score = np.zeros(np.broadcast(first, second).shape)
        if "C" in self.similarities:
            intersection = np.minimum(self.colour[first], self.colour[second])
            score += np.cumsum(intersection, axis=-1)[..., -1]
        if "T" in self.similarities:
            intersection = np.minimum(self.texture[first], self.texture[second])
            score += np.cumsum(intersection, axis=-1)[..., -1]
        if "S" in self.similarities:
            score += 1.0 - (self.size[first] + self.size[second]) / self.image_size
        if "F" in self.similarities:
            box_a, box_b = self.boxes[first], self.boxes[second]
            extent = (np.maximum(box_a[..., 2:], box_b[..., 2:])
                      - np.minimum(box_a[..., :2], box_b[..., :2]))
            box_size = extent[..., 0] * extent[..., 1]
            score += 1.0 - (box_size - self.size[first] - self.size[second]) / self.image_size
        return score

    def _merge(self, i, j, new):
        total = self.size[i] + self.size[j]
        for features in (self.colour, self.texture):
            features[new] = (features[i] * self.size[i] + features[j] * self.size[j]) / total
        self.boxes[new, :2] = np.minimum(self.boxes[i, :2], self.boxes[j, :2])
        self.boxes[new, 2:] = np.maximum(self.boxes[i, 2:], self.boxes[j, 2:])
        self.size[new] = total
        self.parent[[i, j]] = new

    def group(self, max_pairs):
        """Merges until at most `max_pairs` adjacent pairs remain; returns labels 0..K-1."""
        pairs = ordered_adjacent_pairs(self.labels)
        neighbours = {r: set() for r in range(self.count)}
        for i, j in pairs.tolist():
            neighbours[i].add(j)
            neighbours[j].add(i)
        scores = self.similarity(pairs[:, 0], pairs[:, 1])
        # Highest score first; among equal scores the pair scored last, as in their code.
        ranked = enumerate(zip(scores.tolist(), pairs.tolist(), strict=True))
        heap = [(-score, -serial, i, j) for serial, (score, (i, j)) in ranked]
        heapq.heapify(heap)
        serial, num_pairs, new = len(heap), len(heap), self.count
        while num_pairs > max_pairs:
            _, _, i, j = heapq.heappop(heap)
            if i not in neighbours or j not in neighbours:
                continue  # one side has been merged since this pair was scored
            self._merge(i, j, new)
            near_i, near_j = neighbours.pop(i), neighbours.pop(j)
            around = (near_i | near_j) - {i, j}
            num_pairs += len(around) - (len(near_i) + len(near_j) - 1)  # (i, j) was in both
            for other in around:
                neighbours[other] -= {i, j}
                neighbours[other].add(new)
            neighbours[new] = around
            others = np.array(sorted(around), dtype=np.int64)
            around_scores = self.similarity(new, others).tolist()
            for other, score in zip(others.tolist(), around_scores, strict=True):
                heapq.heappush(heap, (-score, -serial, other, new))
                serial += 1
            new += 1
        return self.final_labels(new)

    def final_labels(self, used):
        roots = self.parent[:used]
        while True:
            deeper = roots[roots]
            if np.array_equal(deeper, roots):
                break
            roots = deeper
        _, compact = np.unique(roots[:self.count], return_inverse=True)
        return compact[self.labels]
