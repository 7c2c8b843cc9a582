"""The pictures: drawn from the circuit and the site table; the guide uses them."""

import pathlib
import xml.etree.ElementTree as ET

from hwdesign import drawings

ROOT = pathlib.Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def _texts(path):
    root = ET.parse(path).getroot()
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_schematic_picture_shows_every_main_part_and_the_bus(circuit, pinmap, tmp_path):
    out = tmp_path / "schematic.svg"
    drawings.draw_schematic(circuit, out)
    text = _texts(out)
    nodes, edges = drawings.diagram_graph(circuit)
    for ref in nodes:
        assert ref in text, ref
    esp = next(r for r in nodes if "ESP32" in nodes[r][2])
    ads = next(r for r in nodes if "ADS1292R" in nodes[r][2])
    spi = set(edges[tuple(sorted((esp, ads)))])
    assert {p["net"] for p in pinmap["pins"] if "ADS1292R" in p["to"]} <= spi


def test_placement_picture_names_every_site(tmp_path):
    out = tmp_path / "placement.svg"
    drawings.draw_placement(out)
    text = _texts(out)
    for s in drawings.SITES:
        assert s["site"] in text and s["body_site"] in text


def test_committed_pictures_exist_and_parse():
    for name in ("schematic.svg", "placement.svg"):
        ET.parse(ROOT / "hardware" / name)


def test_guide_covers_the_sites_and_why_eyelid_and_tongue_are_out(tmp_path):
    readme = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    assert "placement.svg" in readme
    for s in drawings.SITES:
        assert f'--body-site "{s["body_site"]}"' in readme, s["site"]
    for site in drawings.OUT_OF_REACH:
        assert site in readme.lower()
    assert "twitchwatch device selftest --port" in readme
