"""`prodready check`: rules over each kind of file and over the whole Project."""
