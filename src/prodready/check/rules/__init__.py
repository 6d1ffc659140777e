"""Rule modules: one per kind of file, plus crossfile.py for rules over the whole Project."""
