"""`prodready init`: production deployment files rendered from the detected Project.

`plan.build_context` turns a Project into the facts the templates need; one renderer module per
artifact turns that context into files; `writer` writes them without clobbering anything;
`validate` runs the real tool that reads each file.
"""
