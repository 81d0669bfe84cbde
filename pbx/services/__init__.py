"""Use-case services. Each takes the SQLAlchemy session it works in and never commits:
the caller owns the unit of work (`with session_scope(factory) as s:`)."""
