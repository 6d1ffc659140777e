"""A few lines per framework: where to install the core middleware and how to read the route."""
