"""Liveness: is the face in front of the camera a live person (not a print or a screen)?"""
