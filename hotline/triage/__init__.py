"""Triage that reads Vietnamese, on the province's own server.

Framework-free text and model code: accent-folded, chat-normalised text
(:mod:`.textprep`), the training corpus written for it (:mod:`.corpus`), the
field and scope model (:mod:`.model`), scope cues and the banner each scope gets
(:mod:`.scope`), knowledge-base ranking (:mod:`.kb`). Nothing here opens a socket:
the database-backed parts live in :mod:`hotline.services.triage`.
"""
