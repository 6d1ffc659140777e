"""One parser per kind of deployment file. Each keeps line numbers and never raises on bad
input: what cannot be parsed is returned as a FileProblem beside whatever could be."""
