"""Learning from outcomes: feedback, implicit outcomes, the outcome memory and
the online correction of the per-tier success estimates.

records.py     an outcome record and its codec onto the cache's Store contract
correction.py  the correction itself (pure): a Beta prior around the model's estimate
memory.py      the memory without Ray: record, feedback (pending until its record
               arrives), re-ask detection, neighbours, the outcome log
deployment.py  the OutcomeMemory Serve deployment; remote.py the handle adapter
"""
