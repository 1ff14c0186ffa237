"""Automatic raters of videos on their questions: the measured probes (``scine.judge.probes``).

Heavy packages (OpenCV, NumPy, PyAV) are imported by the modules that use them.
"""
