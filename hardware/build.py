"""Regenerate every hardware output from the design code, or check them.

    python hardware/build.py            # write twitchwatch.net, bom.csv, budgets.md, schematic.svg, placement.svg
    python hardware/build.py --check    # write nothing; exit 1 listing every problem

The check runs: the pin map against the ESP32's rules and firmware/board_esp32.py,
SKiDL's ERC, the netlist against the pin map, and compares the netlist, BOM and budgets
with the committed files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hwdesign import bom, budgets, drawings, outputs, pincheck, schematic  # noqa: E402
from hwdesign.netlist import Netlist  # noqa: E402

FIRMWARE_BOARD = HERE.parent / "firmware" / "board_esp32.py"
TEXT_OUTPUTS = ("twitchwatch.net", "bom.csv", "budgets.md")


def generate() -> tuple[dict[str, str], object, list[str]]:
    """(file name -> text, circuit, problems) for everything but the pictures."""
    pm = pincheck.load(outputs.PINMAP)
    problems = pincheck.check_pinmap(pm)
    problems += pincheck.check_firmware(pm, FIRMWARE_BOARD.read_text(encoding="utf-8"))
    circuit = schematic.build(pm)
    erc = outputs.run_erc(circuit)
    problems += [f"ERC: {m}" for m in erc.messages]
    if erc.errors and not erc.messages:
        problems.append(f"ERC: {erc.errors} error(s)")
    net_text = outputs.netlist_text(circuit)
    problems += pincheck.check_netlist(pm, Netlist.parse(net_text))
    texts = {
        "twitchwatch.net": net_text,
        "bom.csv": bom.to_csv(bom.rows(circuit)),
        "budgets.md": budgets.render_details(),
    }
    return texts, circuit, problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="write nothing; fail on any problem or stale file")
    args = ap.parse_args(argv)
    texts, circuit, problems = generate()
    if args.check:
        for name in TEXT_OUTPUTS:
            path = HERE / name
            if not path.exists() or path.read_text(encoding="utf-8") != texts[name]:
                problems.append(f"{name} is stale: run python hardware/build.py")
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    for p in problems:
        print(p, file=sys.stderr)
    for name, text in texts.items():
        (HERE / name).write_text(text, encoding="utf-8")
    drawings.draw_schematic(circuit, HERE / "schematic.svg")
    drawings.draw_placement(HERE / "placement.svg")
    print("wrote " + ", ".join(TEXT_OUTPUTS + ("schematic.svg", "placement.svg")) + f" in {HERE}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
