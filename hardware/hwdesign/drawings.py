"""Pictures for people who read rather than run, drawn by code with matplotlib (already
a twitchwatch dependency): the schematic as a block/net diagram derived from the SKiDL
circuit, and the electrode placement for each body site.

SVGs are written without a date and with a fixed hash salt, so redrawing with the same
matplotlib gives the same file.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch  # noqa: E402

from . import schematic  # noqa: E402

plt.rcParams["svg.hashsalt"] = "twitchwatch-hardware"
plt.rcParams["svg.fonttype"] = "none"  # text stays text (searchable, smaller)

#: Where each main part sits in the block diagram (symbol name, occurrence) -> (x, y).
POSITIONS = {
    ("Conn_Battery", 0): (0.5, 1.0), ("DW01A", 0): (1.3, -0.3), ("FS8205A", 0): (3.3, -0.3),
    ("MCP73831", 0): (2.2, 3.0), ("SW_SPDT", 0): (3.9, 1.0), ("DMG2305UX", 0): (5.4, 1.0),
    ("MBR0520L", 0): (5.4, 2.3), ("AP2112K-3.3", 0): (7.0, 1.0), ("LP5907-3.0", 0): (8.8, 0.3),
    ("USB_C_Receptacle_USB2.0", 0): (0.5, 5.0), ("USBLC6-2SC6", 0): (2.2, 5.9), ("AP2112K-3.3", 1): (2.2, 4.3),
    ("CH340C", 0): (3.9, 5.0), ("MMBT3904", 0): (5.4, 6.1), ("MMBT3904", 1): (5.4, 4.3),
    ("SW_Push", 0): (7.0, 6.6), ("SW_Push", 1): (8.6, 6.6),
    ("ESP32-WROOM-32E", 0): (7.4, 4.0), ("ADS1292R", 0): (10.6, 2.6), ("LSM6DSO", 0): (10.6, 5.4),
    ("Conn_Electrodes", 0): (13.2, 2.6),
}
MAIN_PREFIXES = ("U", "J", "Q", "SW")
SKIP_NETS = {"GND", "AGND", "CELL_N"}
#: Supply nets without a power-output pin: drawn as a star from this part.
RAIL_SOURCES = {"VBUS": "USB_C_Receptacle_USB2.0", "VCELL": "Conn_Battery", "BAT_SW": "SW_SPDT",
                "VSYS": "MBR0520L", "DW_VCC": "DW01A"}
#: Label text for a part in the diagram: the symbol name plus a role.
ROLES = {
    "Conn_Battery": "LiPo cell", "DW01A": "protection", "FS8205A": "protection FETs", "MCP73831": "charger",
    "SW_SPDT": "on/off", "DMG2305UX": "load sharing", "MBR0520L": "VBUS diode", "AP2112K-3.3": "3.3 V LDO",
    "LP5907-3.0": "3.0 V low-noise LDO (AVDD)", "USB_C_Receptacle_USB2.0": "USB-C", "USBLC6-2SC6": "USB ESD",
    "CH340C": "USB-UART", "MMBT3904": "auto-reset", "SW_Push": "button", "ESP32-WROOM-32E": "MCU + BLE",
    "ADS1292R": "EMG ADC", "LSM6DSO": "accelerometer", "Conn_Electrodes": "electrodes",
}


def _is_main(part) -> bool:
    m = re.match(r"[A-Z]+", part.ref)
    return bool(m) and m.group(0) in MAIN_PREFIXES or part.name == "MBR0520L"


def diagram_graph(circuit) -> tuple[dict, dict]:
    """(nodes: ref -> (x, y, label), edges: (ref_a, ref_b) -> sorted labels) of the
    block diagram: main parts, joined where they share a net (a power net as a star
    from the part that outputs it) or meet through one series resistor."""
    seen: dict[str, int] = defaultdict(int)
    nodes = {}
    for part in sorted(circuit.parts, key=lambda p: (re.sub(r"\d", "", p.ref), int(re.sub(r"\D", "", p.ref)))):
        if not _is_main(part):
            continue
        key = (part.name, seen[part.name])
        seen[part.name] += 1
        if key not in POSITIONS:
            raise KeyError(f"drawings.POSITIONS has no place for {part.ref} ({part.name} #{key[1]})")
        x, y = POSITIONS[key]
        nodes[part.ref] = (x, y, f"{part.ref} {part.name}\n{ROLES.get(part.name, '')}")
    edges: dict[tuple, set] = defaultdict(set)

    def link(a: str, b: str, label: str) -> None:
        if a != b:
            edges[tuple(sorted((a, b)))].add(label)

    net_main: dict[str, list] = {}
    for net in circuit.get_nets():
        if net.name in SKIP_NETS or net.name.startswith("__"):
            continue
        mains = sorted({p.part.ref for p in net.pins if p.part.ref in nodes})
        net_main[net.name] = mains
        drivers = sorted({p.part.ref for p in net.pins if p.part.ref in nodes and
                          (p.func.name == "PWROUT" or p.part.name == RAIL_SOURCES.get(net.name))})
        if drivers:
            for m in mains:
                link(drivers[0], m, net.name)
        else:
            for i, a in enumerate(mains):
                for b in mains[i + 1:]:
                    link(a, b, net.name)
    for part in circuit.parts:
        if part.ref.startswith("R") and len(part.pins) == 2:
            na, nb = (p.net.name if p.net is not None else None for p in part.pins)
            rails = SKIP_NETS | set(schematic.POWER_NETS)
            if na in net_main and nb in net_main and na not in rails and nb not in rails:
                for a in net_main[na]:
                    for b in net_main[nb]:
                        link(a, b, f"{_short(na)}~{part.value}~{_short(nb)}")
    return nodes, {k: sorted(v) for k, v in edges.items()}


def _short(net: str) -> str:
    return net.replace("ADC_", "").replace("E_", "")


def _fold(labels: list[str], width: int = 34, max_lines: int = 3) -> str:
    lines, cur = [], ""
    for lab in labels:
        nxt = f"{cur}, {lab}" if cur else lab
        if len(nxt) > width and cur:
            lines.append(cur)
            cur = lab
        else:
            cur = nxt
    lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [f"... +{len(labels) - sum(len(l.split(', ')) for l in lines[:max_lines - 1])} more"]
    return "\n".join(lines)


def _save(fig, path: Path) -> None:
    fig.savefig(path, format="svg", metadata={"Date": None, "Creator": "hardware/build.py"}, bbox_inches="tight")
    plt.close(fig)


def draw_schematic(circuit, path: Path) -> None:
    nodes, edges = diagram_graph(circuit)
    fig, ax = plt.subplots(figsize=(17, 9))
    for (a, b), labels in sorted(edges.items()):
        xa, ya, _ = nodes[a]
        xb, yb, _ = nodes[b]
        power = any(l in ("VBUS", "VCELL", "VSYS", "BAT_SW", "+3V3", "AVDD_3V0", "VUSB_3V3") for l in labels)
        ax.plot([xa, xb], [ya, yb], color="#c0392b" if power else "#2c3e50", lw=1.0, alpha=0.7, zorder=1)
        ax.text((xa + xb) / 2, (ya + yb) / 2, _fold(labels), fontsize=5.5, ha="center", va="center", zorder=3,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    for ref, (x, y, label) in sorted(nodes.items()):
        ax.add_patch(FancyBboxPatch((x - 0.72, y - 0.32), 1.44, 0.64, boxstyle="round,pad=0.04",
                                    fc="#eaf2f8", ec="#2c3e50", lw=1.0, zorder=2))
        ax.text(x, y, label, fontsize=6.5, ha="center", va="center", zorder=4)
    ax.set_xlim(-0.5, 14.2)
    ax.set_ylim(-0.8, 7.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("twitchwatch patch: main parts and the nets between them (red: supply rails; "
                 "a~value~b: through a series resistor; GND/AGND not drawn). "
                 "Every part and pin: hardware/twitchwatch.net", fontsize=8, y=1.04)
    _save(fig, path)


# ---------------------------------------------------------------------- placement
#: Body sites: the name to give ``twitchwatch stream --body-site``, the muscle, where
#: each electrode goes, and an outline to draw (limb drawn as a band, proximal at the top).
SITES = [
    {"site": "calf", "body_site": "left calf", "muscle": "gastrocnemius, medial head",
     "ch1": "on the bulk of the medial head, one third of the way from the knee crease to the heel, pair along the leg",
     "ch2": "lateral head at the same level, or soleus below the gastrocnemius bellies",
     "rld": "medial malleolus (ankle bone) or tibial shaft", "board": "strapped on the calf just below channel 1",
     "outline": (1.6, 6.0), "e1": (0.45, 4.0), "e2": (1.15, 4.0), "rld_xy": (0.8, 0.4)},
    {"site": "thigh", "body_site": "left thigh", "muscle": "vastus lateralis / rectus femoris",
     "ch1": "vastus lateralis, two thirds of the way from the hip bone (ASIS) to the lateral knee, pair along the thigh",
     "ch2": "rectus femoris, midway down the front of the thigh",
     "rld": "patella (kneecap) edge", "board": "on the front of the thigh, strapped",
     "outline": (2.2, 6.0), "e1": (1.75, 2.4), "e2": (0.8, 3.2), "rld_xy": (1.1, 0.4)},
    {"site": "forearm", "body_site": "left forearm", "muscle": "forearm flexors (flexor carpi radialis) / extensors",
     "ch1": "flexor side, a third of the way from the elbow crease to the wrist, pair along the forearm",
     "ch2": "extensor side (dorsal), same level",
     "rld": "ulnar styloid (wrist bone) or olecranon (elbow tip)", "board": "on the forearm, strapped, away from the wrist crease",
     "outline": (1.3, 5.0), "e1": (0.4, 3.4), "e2": (0.95, 3.4), "rld_xy": (0.65, 0.4)},
    {"site": "upper arm", "body_site": "left upper arm", "muscle": "biceps brachii / triceps",
     "ch1": "biceps, the belly midway between shoulder and elbow crease, pair along the arm",
     "ch2": "triceps, long head at the same level (back of the arm)",
     "rld": "olecranon (elbow tip) or lateral epicondyle", "board": "lateral upper arm, strapped",
     "outline": (1.5, 5.5), "e1": (0.45, 2.9), "e2": (1.05, 2.9), "rld_xy": (0.75, 0.4)},
    {"site": "hand", "body_site": "left hand", "muscle": "first dorsal interosseous / abductor pollicis brevis",
     "ch1": "first dorsal interosseous: the bulge between thumb and index finger (back of the hand), 10 mm electrodes",
     "ch2": "thenar eminence (abductor pollicis brevis), 10 mm electrodes",
     "rld": "ulnar styloid (wrist bone)", "board": "on the back of the wrist/forearm, leads <= 15 cm",
     "outline": (2.0, 3.0), "e1": (0.45, 1.3), "e2": (1.5, 1.1), "rld_xy": (1.6, 2.7)},
]

#: Why some twitch sites are out of reach of this patch.
OUT_OF_REACH = {
    "eyelid": "orbicularis oculi twitches (myokymia) are a few mm across under thin, mobile skin next to the eye: "
              "24 mm gel electrodes do not fit, eye movements and blinks (EOG, blink EMG of hundreds of uV) swamp "
              "single potentials, and electrodes and leads near the eye are unsafe to wear",
    "tongue": "the tongue is inside a wet mouth: no surface electrode stays on it, saliva shorts a pair, and "
              "tongue fasciculations are diagnosed by looking at the resting tongue or with needle EMG",
}


def draw_placement(path: Path) -> None:
    fig, axes = plt.subplots(1, len(SITES), figsize=(3.0 * len(SITES), 5.2))
    for ax, s in zip(axes, SITES):
        w, h = s["outline"]
        ax.add_patch(FancyBboxPatch((0, 0), w, h, boxstyle="round,pad=0.02,rounding_size=0.5",
                                    fc="#fdebd0", ec="#935116", lw=1.2))
        for (x, y), label, colour in ((s["e1"], "1", "#1f618d"), (s["e2"], "2", "#117a65")):
            for dy, pol in ((0.28, "+"), (-0.28, "-")):  # 20 mm apart along the fibres (vertical)
                ax.add_patch(Circle((x, y + dy), 0.16, fc=colour, ec="black", lw=0.6))
                ax.text(x, y + dy, f"{label}{pol}", ha="center", va="center", fontsize=6, color="white")
        rx, ry = s["rld_xy"]
        ax.add_patch(Circle((rx, ry), 0.16, fc="#7f8c8d", ec="black", lw=0.6))
        ax.text(rx, ry, "R", ha="center", va="center", fontsize=6, color="white")
        bx, by = s["e1"]
        ax.add_patch(FancyBboxPatch((bx - 0.35, by - 1.25), 0.7, 0.45, boxstyle="round,pad=0.02",
                                    fc="#d5d8dc", ec="black", lw=0.6))
        ax.text(bx, by - 1.03, "board", ha="center", va="center", fontsize=6)
        ax.set_xlim(-0.3, max(w, 2.2) + 0.3)
        ax.set_ylim(-0.3, 6.3)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{s['site']}\n--body-site \"{s['body_site']}\"\n{s['muscle']}", fontsize=7)
    fig.suptitle("Electrodes: 1+/1- channel 1, 2+/2- channel 2 (20 mm apart along the fibres), R = RLD over bone; "
                 "proximal end at the top", fontsize=8, y=1.04)
    _save(fig, path)
