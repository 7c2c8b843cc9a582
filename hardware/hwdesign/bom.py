"""The bill of materials, from the same circuit the netlist comes from (plus the
off-board items listed in :data:`hwdesign.schematic.OFF_BOARD`)."""

from __future__ import annotations

import csv
import io
import re

from .schematic import OFF_BOARD

COLUMNS = ("reference", "value", "manufacturer", "part_number", "quantity", "notes")


def _ref_key(ref: str) -> tuple:
    m = re.match(r"([A-Za-z_]+)(\d+)$", ref)
    return (m.group(1), int(m.group(2))) if m else (ref, 0)


def rows(circuit) -> list[dict]:
    """One row per distinct (manufacturer, part number, value): references joined,
    quantity counted, the parts' notes joined (distinct ones, in reference order)."""
    groups: dict[tuple, list] = {}
    for part in circuit.parts:
        f = part.fields
        key = (f.get("Manufacturer", ""), f.get("MPN", ""), str(part.value))
        groups.setdefault(key, []).append(part)
    out = []
    for (mfr, mpn, value), members in groups.items():
        members.sort(key=lambda p: _ref_key(p.ref))
        notes: list[str] = []
        for p in members:
            note = p.fields.get("Notes", "")
            if note and note not in notes:
                notes.append(note)
        desc = getattr(members[0], "description", "")
        out.append({
            "reference": " ".join(p.ref for p in members),
            "value": value,
            "manufacturer": mfr,
            "part_number": mpn,
            "quantity": len(members),
            "notes": "; ".join(([desc] if desc else []) + notes),
        })
    out.sort(key=lambda r: _ref_key(r["reference"].split()[0]))
    for qty, value, mfr, mpn, notes in OFF_BOARD:
        out.append({"reference": "(off board)", "value": value, "manufacturer": mfr, "part_number": mpn,
                    "quantity": qty, "notes": notes})
    return out


def to_csv(bom_rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in bom_rows:
        w.writerow(r)
    return buf.getvalue()
