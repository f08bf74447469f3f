"""The choreography declared once (catalogue.py) and what is generated from it:
the consumers' wiring (wiring.py), the event catalogue (docs.py), sample events
(samples.py). Developer tooling: it is not part of any Lambda package or layer."""
