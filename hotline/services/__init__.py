"""Use cases over the database. Services check permissions, change rows, write events
and outbox rows, and flush; their one caller (a request, a job, a command) commits."""
