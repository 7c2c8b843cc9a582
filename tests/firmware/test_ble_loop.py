"""ble_loop.BleLoop: the BLE build's loop pass (ble_main.py on the board, the virtual BLE
board in the tests), checked under CPython with stand-ins at its collaborators' API."""

import ble_loop  # noqa: E402  (firmware/, put on sys.path by conftest)


class _Clock:
    def __init__(self) -> None:
        self.ms = 0

    def now_ms(self) -> int:
        return self.ms


class _Ring:
    write_index = 0


class _Acq:
    def __init__(self) -> None:
        self.rings = [_Ring(), _Ring()]
        self.steps = 0
        self.commands = []

    def step(self) -> None:
        self.steps += 1
        if self.steps % 2:
            self.rings[0].write_index += 1  # a sample read every other pass

    def handle_command(self, command, arg) -> None:
        self.commands.append((command, arg))


class _Fe:
    base = "board front end"

    def battery_pct(self) -> int:
        return 87


class _Link:
    reason = "test"

    def __init__(self) -> None:
        self.pending = []
        self.battery = []
        self.levels = []
        self.pumped_at = []

    def poll_commands(self, handler) -> int:
        for c in self.pending:
            handler(*c)
        n, self.pending = len(self.pending), []
        return n

    def wanted_level(self, base, now_ms) -> int:
        assert base == _Fe.base
        return self.levels.pop(0) if self.levels else -1

    def pump(self, now_ms) -> int:
        self.pumped_at.append(now_ms)
        return 0

    def set_battery_pct(self, pct) -> None:
        self.battery.append(pct)


def test_the_watchdog_is_fed_on_time_and_commands_every_pass(monkeypatch):
    clock, acq, link = _Clock(), _Acq(), _Link()
    fed = []
    loop = ble_loop.BleLoop(acq, _Fe(), link, clock, wdt_feed=lambda: fed.append(clock.ms), poll_ms=20,
                            battery_every_ms=1000)
    switched = []
    monkeypatch.setattr(ble_loop.ble_budget, "switch", lambda *a: switched.append(a[2]))
    busy = []
    for ms in range(0, 3000):  # one pass a millisecond for 3 s
        clock.ms = ms
        if ms == 1500:
            link.pending.append((1, 0))
            link.levels = [2]
        busy.append(loop.run_once())
    gaps = [b - a for a, b in zip(fed, fed[1:])]
    assert fed[0] == 0 and max(gaps) == 20  # fed every 20 ms, never later (the WDT is 2 s)
    assert acq.commands == [(1, 0)] and switched == [2]
    assert link.battery == [87, 87, 87] and len(link.pumped_at) == 3000
    assert busy.count(True) == 1500  # a pass that read a sample is busy; the rest are idle spins


def test_without_a_watchdog_the_loop_runs_as_before():
    clock, acq, link = _Clock(), _Acq(), _Link()
    loop = ble_loop.BleLoop(acq, _Fe(), link, clock)
    for ms in range(100):
        clock.ms = ms
        loop.run_once()
    assert acq.steps == 100 and link.battery == [87]
