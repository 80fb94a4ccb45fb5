"""The chip lab: the circuit designer's window beside the live dashboard.

Knobs for every non-ideality (live), the ideal chip side by side, where the error comes from (static
mismatch maps, ideal vs actual per conversion and per column, a column's detail), one invocation's
waveforms over its 150 ns, Monte Carlo over chips, and jumps to the next event. Numbers come from
:mod:`core.analysis` and the session; nothing here simulates on its own.
"""
