import json
import pathlib


VECTORS_DIR = pathlib.Path(__file__).resolve().parents[1] / "vectors"


def load_vectors():
    return {p.stem: json.loads(p.read_text()) for p in sorted(VECTORS_DIR.glob("*.json"))}


VECTORS = load_vectors()
GOOD = {k: v for k, v in VECTORS.items() if "fields" in v}
BAD = {k: v for k, v in VECTORS.items() if k.startswith("bad_")}


