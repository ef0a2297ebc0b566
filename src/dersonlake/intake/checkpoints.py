"""Where an owner's CDC resumes: its last ``RecoveryCheckpoint``, kept in the owner's lake.

The seed's flow deletes the replication task (and the instance) after every run so nothing idles,
and DMS forgets a task's ``RecoveryCheckpoint`` with the task (dms.md §5.1). The next ``delta`` run
must start where the last one stopped, so the intake saves the checkpoint before ``delete_task``.

The document and its location are ``dersonlake.lake_checkpoint`` (boto3 + standard library +
``config``, importable by the Lambda package and by the replication task runner alike): one
checkpoint per owner and lake, whichever path wrote it.
"""

from __future__ import annotations

from dersonlake.lake_checkpoint import FOLDER, FORMAT, CheckpointStore, Lake, checkpoint_key

__all__ = ["FOLDER", "FORMAT", "CheckpointStore", "Lake", "checkpoint_key"]
