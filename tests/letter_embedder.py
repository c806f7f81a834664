"""A toy third-party embedder for tests: letter counts a-z as unit vectors (no model, no download)."""

from __future__ import annotations

import numpy as np


class LetterEmbedder:
    dim = 26

    def __init__(self, name: str) -> None:
        self.name = name

    def embed_passages(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in text.lower():
                if "a" <= char <= "z":
                    out[row, ord(char) - ord("a")] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def embed_query(self, text):
        return self.embed_passages([text])[0]
