"""What the unit does with personal data beyond sealing: erasure, evidence pictures, retention, the inventory and provisioning.

Sealing and keys are in :mod:`core.privacy`.
"""
