"""The run store: every run, its recorded steps and epochs, in one SQLite file.

- `runstore`: RunStore, the connections, the writer thread and its buffers;
- `reads`: what the store answers (RunStore's read side), `errors`: StoreError;
- `sql`: every SQL statement, the schema included, and the batched writes;
- `rows`: a run's row (its columns follow the contract's Run) and how values are encoded.
"""

from server.store.rows import ACTIVE, RUN_COLUMNS
from server.store.runstore import RunStore, StoreError

__all__ = ["ACTIVE", "RUN_COLUMNS", "RunStore", "StoreError"]
