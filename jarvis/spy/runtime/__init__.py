"""One run of a ``Program``: the meter, memory, guards, gate, environment and the runner.

Bottom-up: ``positions`` and ``exceptions`` -> ``memory`` (the heap walk) -> ``meter``
(steps, time, depth, memory probes) -> ``guards`` (what one operation may cost) ->
``namespaces`` and ``books`` (``math``, ``json``, Book calls) -> ``gate`` (every attribute
read) -> ``environment`` (the builtins and globals of one run) -> ``run`` (``run_program``).
This ``__init__`` imports none of them: each layer imports the ones below by name.
"""
