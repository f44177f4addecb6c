"""Use cases, callable without a request: the web and API layers only translate."""
