"""What the worker tells operators about itself: metrics, traces and its own logs.

Nothing here changes what an execution does; each part costs nothing when it is off.
"""
