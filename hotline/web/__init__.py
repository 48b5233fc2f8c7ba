"""Blueprints by audience: public, operator, agency, manager, admin, api."""
