"""Data shipped inside the distribution: the starter knowledge pack and its lexicons.

The code that reads them lives beside it (knowledge/starter.py); these names stay here
for callers that import them from the pack.
"""

from knowledge.starter import META_KEY, PACK_AUTHOR, load_starter_pack, starter_pack_text

__all__ = ["META_KEY", "PACK_AUTHOR", "load_starter_pack", "starter_pack_text"]
