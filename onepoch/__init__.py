"""onepoch: reproducing the one-epoch phenomenon of deep CTR models (CIKM 2022).

Kept minimal on purpose: importing ``onepoch`` must stay cheap (no torch), so the
command line and the book tools start fast. Import the submodules you need.
"""

__version__ = "0.1.0"
