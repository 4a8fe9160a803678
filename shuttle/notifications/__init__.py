"""E-mail digests that reveal nothing: the same words every time, at a fixed time of day."""
