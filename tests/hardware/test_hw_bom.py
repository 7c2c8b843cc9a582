"""The BOM comes from the same circuit as the netlist."""

import csv
import io

from hwdesign import bom, outputs
from hwdesign.netlist import Netlist


def test_the_committed_bom_is_what_the_code_generates(circuit):
    assert outputs.BOM.read_text(encoding="utf-8") == bom.to_csv(bom.rows(circuit))


def test_bom_covers_every_netlist_part_once(circuit, netlist_text):
    rows = list(csv.DictReader(io.StringIO(bom.to_csv(bom.rows(circuit)))))
    assert tuple(rows[0]) == bom.COLUMNS
    on_board = [r for r in rows if r["reference"] != "(off board)"]
    refs = [ref for r in on_board for ref in r["reference"].split()]
    assert sorted(refs) == sorted(Netlist.parse(netlist_text).components)
    assert sum(int(r["quantity"]) for r in on_board) == len(refs)
    for r in rows:
        assert r["manufacturer"] and r["part_number"] and int(r["quantity"]) >= 1, r
    # one line per distinct part: no part number appears on two lines with the same value
    keys = [(r["manufacturer"], r["part_number"], r["value"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert any(r["reference"] == "(off board)" and "2500 mAh" in r["value"] for r in rows)


def test_bom_quantities_follow_the_circuit(circuit):
    rows = bom.rows(circuit)
    series = next(r for r in rows if r["value"] == "120k")
    assert series["quantity"] == 5  # four electrode leads + RLD
    assert series["part_number"] == "RC0402FR-07120KL"
