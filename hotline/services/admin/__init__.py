"""Administration use cases: the province's organisation, accounts, knowledge base, audit.

Every function that changes something takes an ``Actor`` (who, from where)
and writes one ``audit_log`` row through ``audit.record`` in the same
transaction; the caller commits once. Submodules: ``audit``, ``org``
(agencies, fields), ``areas``, ``rules``, ``users`` (staff and API keys),
``kb``, ``ops`` (channel status, queue depth), ``csvfile`` (CSV parsing with
line-numbered Vietnamese errors).
"""
from hotline.services.admin.audit import Actor

__all__ = ["Actor"]
