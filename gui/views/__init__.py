"""The dashboard's views; each renders part of a :class:`core.session.Frame` and owns no simulation."""
