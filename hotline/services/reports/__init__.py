"""Managers' and the IOC's reports: overdue and due-soon lists, unit ranking against the
previous period and targets, the dashboard, quality review, exports, the monthly report.

Every figure is an SQL aggregate computed in the database (GROUP BY, window
functions, percentiles); nothing loads tickets into Python to count them. Past
days read the daily aggregate ``ticket_daily_stats`` (``flask refresh-stats``);
days it does not cover yet are counted live with the same query. Each function
takes a :class:`~hotline.services.reports.scope.Scope` — a manager's whole
province or an agency lead's own unit — built from the actor by ``scope_for``.
"""
from hotline.services.reports.scope import SYSTEM, Scope, require_manager, scope_for

__all__ = ["SYSTEM", "Scope", "require_manager", "scope_for"]
