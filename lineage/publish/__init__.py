"""The public sub-processor site (`flowreg publish`): the list on a day, its dated changes with
notice dates, an Atom feed and JSON, generated from the registry's windows and revisions.

Modules, in the order data flows: `timeline` (when each sub-processor flow ran), `listing` (the
list on any day, tools judged by the engine and said by `words`), `changes` (the dated changes),
`publication` (one revision and day), then the files: `html_pages`, `atom`, `machine`, and
`site`, which writes them into a folder or a zip. `safe` keeps registry text inert.
"""
