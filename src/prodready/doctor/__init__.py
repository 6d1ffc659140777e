"""`prodready doctor`: what this machine has and lacks to run prodready's parts.

`versions.py` reads the supported ranges from prodready's own package metadata (pyproject.toml
is the one place they are written); `checks.py` turns the machine into a list of `Check`s.
Sits beside verify in the layering: it reads project (cgroups) and generate (tool lookup).
"""
