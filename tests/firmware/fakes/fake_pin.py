"""A ``machine.Pin`` stand-in (MicroPython and CPython): value, irq, and ``fire()``."""


class FakePin:
    IN = 1
    OUT = 3
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, name="pin", value=1, on_change=None):
        self.name = name
        self._value = value
        self.handler = None
        self.trigger = 0
        self.hard = False
        self.on_change = on_change
        self.history = []

    def value(self, v=None):
        if v is None:
            return self._value
        v = 1 if v else 0
        if v != self._value and self.on_change is not None:
            self.on_change(v)
        self._value = v
        return None

    def irq(self, handler=None, trigger=IRQ_FALLING, hard=False):
        self.handler = handler
        self.trigger = trigger
        self.hard = hard

    def fire(self):
        """A falling edge on an input pin: run the handler as the IRQ would."""
        if self.handler is not None and self.trigger & self.IRQ_FALLING:
            self.handler(self)
