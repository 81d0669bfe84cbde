"""Backups that cannot lose a prompt: consistent database snapshots, a content-addressed
and incremental blob store, manifests that list every blob and every reference to it.

The use cases (create, verify, restore, prune, drill) are in `pbx.services.backups.manage`; this
package is the storage side and knows nothing of the switchboard beyond its tables.
"""
