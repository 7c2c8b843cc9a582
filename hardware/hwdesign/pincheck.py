"""Check the pin map (hardware/pinmap.json) against the ESP32's constraints, the
firmware's pin constants and the generated netlist.

Every check returns a list of one-line problems (empty: all good); nothing raises on a
bad map, so a test or ``python hardware/build.py --check`` can show all problems at once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import esp32
from .netlist import Netlist

_FIELDS = ("gpio", "use", "net", "firmware_const", "boot_level", "pull", "to")
_BOOT_LEVELS = {"high", "low", "float"}
_PULLS = {"up_internal", "up_external", "none"}


def load(path: str | Path) -> dict:
    """Read a pin map (JSON) from ``path``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def check_pinmap(pm: dict) -> list[str]:
    """The ESP32's rules: pads that exist and are free (not flash/PSRAM, not the console
    unless as the console), strapping pins at their boot level, input-only pads not
    driven and not pulled internally, ADC on an ADC pad and not ADC2 with the radio on,
    no pad or net used twice, every use on a pad that can carry it."""
    problems: list[str] = []
    module = pm.get("module")
    if module not in esp32.MODULES:
        return [f"module {module!r} unknown; known: {', '.join(sorted(esp32.MODULES))}"]
    mod = esp32.MODULES[module]
    radio_on = bool(pm.get("radio_on", True))
    seen_gpio: dict[int, str] = {}
    seen_net: dict[str, int] = {}
    for i, p in enumerate(pm.get("pins", [])):
        where = f"pins[{i}]"
        missing = [f for f in _FIELDS if f not in p]
        if missing:
            problems.append(f"{where}: missing field(s) {', '.join(missing)}")
            continue
        gpio, net = p["gpio"], p["net"]
        uses = p["use"] if isinstance(p["use"], list) else [p["use"]]
        if not isinstance(gpio, int) or isinstance(gpio, bool):
            problems.append(f"{where} ({net}): gpio {gpio!r} is not an integer")
            continue
        where = f"GPIO{gpio} ({net})"
        unknown = [u for u in uses if u not in esp32.USES]
        if unknown or not uses:
            problems.append(f"{where}: use {p['use']!r} unknown; known: {', '.join(sorted(esp32.USES))}")
            continue
        # one pad may serve several peripherals (e.g. DRDY as an edge IRQ and a pulse
        # counter): it must meet the needs of all of them
        use = "+".join(uses)
        need = {
            "output": any(esp32.USES[u]["output"] for u in uses),
            "adc": any(esp32.USES[u].get("adc") for u in uses),
            "console": [u for u in uses if esp32.USES[u].get("console")],
        }
        if p["boot_level"] not in _BOOT_LEVELS:
            problems.append(f"{where}: boot_level {p['boot_level']!r} is not one of high/low/float")
        if p["pull"] not in _PULLS:
            problems.append(f"{where}: pull {p['pull']!r} is not one of {'/'.join(sorted(_PULLS))}")
        if gpio in seen_gpio:
            problems.append(f"{where}: GPIO{gpio} used twice (also {seen_gpio[gpio]})")
        seen_gpio.setdefault(gpio, net)
        if net in seen_net:
            problems.append(f"{where}: net {net} on two pins (also GPIO{seen_net[net]})")
        seen_net.setdefault(net, gpio)
        if gpio not in esp32.GPIOS:
            problems.append(f"{where}: GPIO{gpio} does not exist on the ESP32")
            continue
        if gpio in mod["flash_psram"]:
            problems.append(f"{where}: GPIO{gpio} is the {module}'s {mod['flash_psram'][gpio]} pin (flash/PSRAM)")
            continue
        if gpio not in mod["pins"]:
            problems.append(f"{where}: GPIO{gpio} is not brought out on the {module}")
            continue
        if gpio in esp32.CONSOLE and uses != [esp32.CONSOLE[gpio]]:
            problems.append(f"{where}: GPIO{gpio} is UART0 {esp32.CONSOLE[gpio]} (boot log, REPL, flashing), not {use}")
        for u in need["console"]:
            if esp32.CONSOLE.get(gpio) != u:
                problems.append(f"{where}: {u} must be on GPIO{[g for g, c in esp32.CONSOLE.items() if c == u][0]}")
        if gpio in esp32.INPUT_ONLY:
            if need["output"]:
                problems.append(f"{where}: {use} drives the pad, but GPIO{gpio} is input-only")
            if p["pull"] == "up_internal":
                problems.append(f"{where}: GPIO{gpio} is input-only and has no internal pull-up; fit an external one")
        if need["adc"]:
            if gpio in esp32.ADC2:
                if radio_on:
                    problems.append(f"{where}: ADC2_CH{esp32.ADC2[gpio]} cannot be read while the radio is on; use an ADC1 pad (GPIO32-39)")
            elif gpio not in esp32.ADC1:
                problems.append(f"{where}: GPIO{gpio} has no ADC channel")
        if gpio in esp32.STRAPPING:
            ok_levels, why = esp32.STRAPPING[gpio]
            if p["boot_level"] not in ok_levels:
                problems.append(f"{where}: strapping pin held {p['boot_level']} at reset; needs {'/'.join(sorted(ok_levels))}: {why}")
    return problems


_CONST_RE = re.compile(r"^(PIN_\w+)\s*=\s*const\(\s*(\d+)\s*\)", re.MULTILINE)


def firmware_pins(source: str) -> dict[str, int]:
    """``PIN_x = const(N)`` definitions in firmware/board_esp32.py's source text."""
    return {name: int(num) for name, num in _CONST_RE.findall(source)}


def check_firmware(pm: dict, source: str) -> list[str]:
    """Every pin-map entry with a ``firmware_const`` must match the firmware's constant
    and every firmware ``PIN_`` constant must be in the pin map."""
    problems: list[str] = []
    fw = firmware_pins(source)
    named = {}
    for p in pm.get("pins", []):
        const = p.get("firmware_const")
        if not const:
            continue
        named[const] = p
        if const not in fw:
            problems.append(f"pin map: {const} (GPIO{p.get('gpio')}, {p.get('net')}) is not defined in firmware/board_esp32.py")
        elif fw[const] != p.get("gpio"):
            problems.append(f"pin map says {const} = GPIO{p.get('gpio')} ({p.get('net')}), firmware/board_esp32.py says GPIO{fw[const]}")
    for const, gpio in sorted(fw.items()):
        if const not in named:
            problems.append(f"firmware/board_esp32.py: {const} = GPIO{gpio} is not in the pin map")
    return problems


def check_netlist(pm: dict, netlist: Netlist) -> list[str]:
    """The ESP32 module's pins in the netlist must carry exactly the pin map's nets."""
    module = pm.get("module")
    if module not in esp32.MODULES:
        return [f"module {module!r} unknown"]
    mod = esp32.MODULES[module]
    refs = [ref for ref, c in netlist.components.items() if c["part"] == module]
    if len(refs) != 1:
        return [f"netlist: {len(refs)} {module} modules (expected 1)"]
    ref = refs[0]
    problems: list[str] = []
    by_gpio = {p["gpio"]: p for p in pm.get("pins", []) if isinstance(p.get("gpio"), int)}
    for gpio, pin_no in sorted(mod["pins"].items()):
        net = netlist.net_of(ref, str(pin_no))
        want = by_gpio.get(gpio, {}).get("net")
        if want is None and net is not None:
            problems.append(f"netlist: {ref} GPIO{gpio} (pin {pin_no}) is on net {net}, which the pin map does not list")
        elif want is not None and net != want:
            problems.append(f"netlist: {ref} GPIO{gpio} (pin {pin_no}) is on net {net or 'nothing'}, the pin map says {want}")
    for gpio in sorted(set(by_gpio) - set(mod["pins"])):
        problems.append(f"netlist: the pin map's GPIO{gpio} has no pin on the {module}")
    return problems
