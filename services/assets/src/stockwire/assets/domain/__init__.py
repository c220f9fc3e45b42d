"""Assets' pure domain: the lifecycle state machine, devices and the facts that move
them, reliability arithmetic and the rules of alerts. No I/O, no framework."""
