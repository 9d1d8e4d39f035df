"""`report`: the evidence pack an auditor asks for, gathered from the same library calls as `verify`,
`doctor`, the canned questions and `hunt`, and written as one self-contained HTML page, JSON or Markdown.

`gather.gather` collects an `Evidence`; `render` turns it into a file. No CLI framework here.
"""
