"""Template formats: the face encoding as stored (``face``).

Finger templates are opaque module bytes; their table is :mod:`core.store.finger_templates`.
"""
