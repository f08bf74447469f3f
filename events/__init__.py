"""The event contract shared by every service of the order choreography.

Importing this package is cheap: models, publisher and consumer live in their own
modules and are imported where they are used (Lambda cold start).
"""
