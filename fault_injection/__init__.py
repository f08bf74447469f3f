"""Fault injection: the simulated dependencies (payment provider, carrier, SES) fail
the way real ones do, when the configuration says so (FAULT_RATE, FAULT_KINDS).

Not part of the event contract, and no production adapter imports it: a service's
composition root (its handler module) wraps the real adapter in the service's faulty
decorator (adapters/faulty_*.py) when FAULT_RATE > 0. `sam build` ships this package
in the zips of the functions that do that (lambda_build/Makefile).
"""
