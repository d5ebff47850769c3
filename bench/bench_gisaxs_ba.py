#!/usr/bin/python3
"""bench_gisaxs_ba.py: BornAgain side of bench_gisaxs: the same sample on the same detector,
built by tests/kernels/gs_peer.py from a PARAMS file. Usage: bench_gisaxs_ba.py PARAMS OUT
THREADS. Prints the simulation time in seconds (timed inside python, imports and sample setup
excluded). Exits 77 without BornAgain."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'kernels'))
import gs_peer  # noqa: E402  (exits 77 itself without BornAgain)

if __name__ == '__main__':
    gs_peer.main()
