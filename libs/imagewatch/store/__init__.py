"""PostgreSQL storage: the pool, numbered SQL migrations, and one module per table family.

All SQL lives in this package.
"""
