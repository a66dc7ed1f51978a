"""SPy's values: the types SPy adds (sets, ranges, views), their text and plain data.

Bottom-up: ``names`` (type names, builtin marks) -> ``arguments`` (argument checks) ->
``containers`` -> ``text`` (str/repr) -> ``data`` (the one plain-data converter).
Importing the package imports ``text``, which gives the containers SPy's repr.
"""

from jarvis.spy.values import text as _text  # noqa: F401  (installs the containers' repr)
