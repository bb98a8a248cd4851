"""Benchmarks that print figures as `key: value` lines: `python -m gateway.bench NAME [args]`.

Each benchmark is a module `gateway.bench.<name>` with a `main(argv: list[str]) -> int`.
"""
