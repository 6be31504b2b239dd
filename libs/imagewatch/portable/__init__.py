"""The portable advisory database: export from the store, ship through a registry, pull into the cache.

``export`` writes the store to one file (``store.dbfile``); ``artifact``
pushes that file as an OCI artifact and pulls it back when the registry holds
a newer one. ``imagewatch scan --db FILE`` / ``--db-repository REF`` read it
with no server.
"""
