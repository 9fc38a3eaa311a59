"""One file per curriculum module: its ``EXERCISES`` (and optionally ``on_start`` and ``traffic``).

Every check judges an outcome in the live lab or against a reference computed at check time -- never a
keystroke, and never an answer stored in the repository.
"""
