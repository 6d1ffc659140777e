"""The well-run project trees under wellrun/ are inputs for `prodready check`, not tests."""

collect_ignore = ["wellrun"]
